import Loop

/// `GET /healthz` (the process answers) and `GET /readyz` (every dependency it needs is up).
public enum HealthRoutes {
    /// A named check of one dependency, e.g. "database".
    public struct Check: Sendable {
        public let name: String
        public let isUp: @Sendable @LoopActor () async -> Bool
        public init(name: String, isUp: @escaping @Sendable @LoopActor () async -> Bool) {
            self.name = name
            self.isUp = isUp
        }
    }

    struct Report: Encodable {
        let status: String
        let checks: [String: String]
    }

    public static func install(on router: inout Router, checks: [Check]) {
        let alive = HTTPResponse.json(Report(status: "ok", checks: [:]))
        router.add(.GET, "/healthz", .immediate { _ in alive })
        router.add(.GET, "/readyz", .deferred { _ in
            var results: [String: String] = [:]
            for check in checks { results[check.name] = await check.isUp() ? "up" : "down" }
            let ready = !results.values.contains("down")
            return .json(Report(status: ready ? "ready" : "not_ready", checks: results), status: ready ? 200 : 503)
        })
    }
}
