import JSONAPI
import Codecs
public import HTTPServer
import Loop
import Services

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

    static func report(_ status: String, _ checks: [(String, String)]) -> JSONValue {
        .object([("status", .string(status)), ("checks", .object(checks.map { ($0, .string($1)) }))])
    }

    public static func install(on router: inout Router, checks: [Check]) {
        router.add(.GET, "/healthz", .fixed(PreparedResponse(.json(report("ok", [])))))
        router.add(.GET, "/readyz", .deferred { _ in
            var results: [(String, String)] = []
            for check in checks { results.append((check.name, await check.isUp() ? "up" : "down")) }
            let ready = !results.contains { $0.1 == "down" }
            return .json(report(ready ? "ready" : "not_ready", results), status: ready ? 200 : 503)
        })
    }
}
