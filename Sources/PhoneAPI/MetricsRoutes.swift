import Config
public import HTTPServer
import Loop
public import Services
public import Telemetry

/// `GET /metrics` (internal listener): the Prometheus text format. The registry's histograms (HTTP
/// routes, push attempts) and the process; gauges sampled now (push queues per platform and lane,
/// whatever `sample` sets: connections, pools); the build; and the delivery counters, whose final
/// outcomes add up to the pushes accepted (retries are counted apart).
public enum MetricsRoutes {
    public static func install(on router: inout Router, delivery: PushDelivery, metrics: Metrics,
                               sample: @escaping @Sendable @LoopActor (Metrics) -> Void = { _ in }) {
        router.add(.GET, "/metrics", .immediate { _ in
            for platform in PushPlatform.allCases {
                for (lane, call) in [("call", true), ("message", false)] {
                    metrics.set("switchboard_push_queue_depth", help: "Pushes queued or in flight, by platform and lane.",
                                labels: [("platform", platform.rawValue), ("lane", lane)], to: Double(delivery.pending(platform, call: call)))
                }
                guard let requests = delivery.requests(platform) else { continue }
                for (state, value) in [("in_flight", requests.inFlight), ("waiting", requests.waiting)] {
                    metrics.set("switchboard_push_provider_requests", help: "Requests at the provider (in_flight) and waiting for a stream, by platform.",
                                labels: [("platform", platform.rawValue), ("state", state)], to: Double(value))
                }
            }
            sample(metrics)
            var lines = ["# HELP switchboard_build_info The running build (always 1).", "# TYPE switchboard_build_info gauge",
                         "switchboard_build_info{version=\"\(BuildInfo.version)\",commit=\"\(BuildInfo.commit)\"} 1",
                         "# HELP switchboard_pushes_total Pushes that ended, by platform and final outcome.",
                         "# TYPE switchboard_pushes_total counter"]
            for platform in PushPlatform.allCases {
                let c = delivery.counters[platform] ?? PushDelivery.Counters()
                for (outcome, value) in [("sent", c.sent), ("failed", c.failed), ("dead_token", c.dead)] {
                    lines.append("switchboard_pushes_total{platform=\"\(platform.rawValue)\",outcome=\"\(outcome)\"} \(value)")
                }
            }
            lines += ["# HELP switchboard_push_retries_total Attempts made again after a transient failure, by platform.",
                      "# TYPE switchboard_push_retries_total counter"]
            for platform in PushPlatform.allCases {
                lines.append("switchboard_push_retries_total{platform=\"\(platform.rawValue)\"} \(delivery.counters[platform]?.retried ?? 0)")
            }
            lines += ["# HELP switchboard_push_connections_total Provider connections opened, and retired after a request on them went unanswered.",
                      "# TYPE switchboard_push_connections_total counter"]
            for platform in PushPlatform.allCases {
                guard let connections = delivery.connections(platform) else { continue }
                for (event, value) in [("opened", connections.opened), ("retired", connections.retired)] {
                    lines.append("switchboard_push_connections_total{platform=\"\(platform.rawValue)\",event=\"\(event)\"} \(value)")
                }
            }
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                                body: Array((lines.joined(separator: "\n") + "\n").utf8) + metrics.exposition())
        })
    }
}
