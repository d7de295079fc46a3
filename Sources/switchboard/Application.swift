import FoundationEssentials
import HTTP
import Logging
import Loop
import Services

/// Wires the long-lived parts together and owns their lifecycle: start in dependency order, report
/// readiness, stop in reverse on SIGTERM.
@LoopActor
final class Application {
    private let configuration: Configuration
    private let logger: Logger
    private let pool: DatabasePool
    private var server: HTTPServer?
    private var migrated = false

    init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        pool = DatabasePool(conninfo: configuration.databaseURL, logger: logger)
    }

    func start() throws {
        logger.info("starting", metadata: [
            "environment": "\(configuration.environment.rawValue)",
            "database": "\(DatabaseAddress.redacted(configuration.databaseURL))",
        ])
        pool.start()
        spawnOnLoop { [self] in await migrateWhenDatabaseIsUp() }

        let now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        let auth = BearerAuthenticator(signer: ClientTokenSigner(secret: configuration.jwtSecret), now: now)
        var router = Router()
        let pool = self.pool
        HealthRoutes.install(on: &router, checks: [
            .init(name: "database") { [weak self] in
                guard let self, self.migrated, pool.isAvailable else { return false }
                return (try? await pool.query("SELECT 1")) != nil
            },
        ])
        ServerRoutes.install(on: &router, configuration: configuration, auth: auth, now: now)

        let server = HTTPServer(router: router, logger: logger)
        try server.start(host: configuration.http.host, port: configuration.http.port)
        self.server = server
        logger.info("listening", metadata: ["http": "\(configuration.http.host):\(server.port)"])
    }

    func stop() {
        logger.info("stopping")
        server?.stop()
        pool.close()
    }

    /// Applies migrations as soon as the database accepts connections, retrying until it does.
    private func migrateWhenDatabaseIsUp() async {
        var failures = 0
        while !migrated {
            if pool.isAvailable {
                do {
                    let applied = try await Migrations.apply(to: pool)
                    migrated = true
                    logger.info("migrations up to date", metadata: ["applied": "\(applied)"])
                    return
                } catch {
                    if failures % 50 == 0 { logger.error("migrations failed; retrying", metadata: ["error": "\(error)"]) }
                    failures += 1
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
