import Logging
import Loop
import Postgres
import Services

/// Applies Switchboard's schema migrations as soon as the database accepts connections, trying again
/// until they apply; ready once they have (`/readyz` says the database is down until then).
@LoopActor
final class Migrator: Service {
    private let pool: DatabasePool
    private let clock: LoopClock
    private let logger: Logger
    private var task: Task<Void, Never>?
    private(set) var isReady = false

    init(pool: DatabasePool, clock: LoopClock, logger: Logger) {
        self.pool = pool
        self.clock = clock
        self.logger = logger
    }

    var serviceName: String { "migrations" }

    func start() {
        task = spawnOnLoop { [self] in await migrate() }
    }

    func stop() { task?.cancel() }

    private func migrate() async {
        var failures = 0
        while !isReady, !Task.isCancelled {
            await pool.untilAvailable()
            guard !Task.isCancelled else { return }
            do {
                let applied = try await MigrationRunner.apply(SchemaMigrations.all, to: pool)
                isReady = true
                logger.info("migrations up to date", metadata: ["applied": "\(applied)"])
            } catch {
                if failures % 50 == 0 { logger.error("migrations failed; retrying", metadata: ["error": "\(error)"]) }
                failures += 1
                await clock.sleep(0.2)
            }
        }
    }
}
