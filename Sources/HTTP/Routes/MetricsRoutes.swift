import Loop
import Services

/// `GET /metrics`: delivery counters in the Prometheus text format, for operators and benchmarks.
public enum MetricsRoutes {
    public static func install(on router: inout Router, delivery: PushDelivery) {
        router.add(.GET, "/metrics", .immediate { _ in
            var lines = ["# TYPE switchboard_pushes_total counter"]
            for platform in [PushRegistrations.Device.Platform.ios, .android] {
                let c = delivery.counters[platform] ?? PushDelivery.Counters()
                for (outcome, value) in [("sent", c.sent), ("failed", c.failed), ("retried", c.retried), ("dead_token", c.dead)] {
                    lines.append("switchboard_pushes_total{platform=\"\(platform.rawValue)\",outcome=\"\(outcome)\"} \(value)")
                }
            }
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                                body: Array((lines.joined(separator: "\n") + "\n").utf8))
        })
    }
}
