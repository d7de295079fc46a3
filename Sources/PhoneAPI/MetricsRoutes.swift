import Config
public import HTTPServer
import Loop
public import Services

/// `GET /metrics`: delivery counters in the Prometheus text format, for operators and benchmarks;
/// and the providers' connections: opened, and replaced after a request on them went unanswered.
public enum MetricsRoutes {
    public static func install(on router: inout Router, delivery: PushDelivery) {
        router.add(.GET, "/metrics", .immediate { _ in
            var lines = ["# HELP switchboard_build_info The running build (always 1).", "# TYPE switchboard_build_info gauge",
                         "switchboard_build_info{version=\"\(BuildInfo.version)\",commit=\"\(BuildInfo.commit)\"} 1",
                         "# TYPE switchboard_pushes_total counter"]
            for platform in PushPlatform.allCases {
                let c = delivery.counters[platform] ?? PushDelivery.Counters()
                for (outcome, value) in [("sent", c.sent), ("failed", c.failed), ("retried", c.retried), ("dead_token", c.dead)] {
                    lines.append("switchboard_pushes_total{platform=\"\(platform.rawValue)\",outcome=\"\(outcome)\"} \(value)")
                }
            }
            lines.append("# TYPE switchboard_push_connections_total counter")
            for platform in PushPlatform.allCases {
                guard let connections = delivery.connections(platform) else { continue }
                for (event, value) in [("opened", connections.opened), ("retired", connections.retired)] {
                    lines.append("switchboard_push_connections_total{platform=\"\(platform.rawValue)\",event=\"\(event)\"} \(value)")
                }
            }
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                                body: Array((lines.joined(separator: "\n") + "\n").utf8))
        })
    }
}
