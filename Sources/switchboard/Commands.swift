import Logging
import Postgres
import Config
import ArgumentParser
import Synchronization
import Dispatch
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Loop
import Services

struct SwitchboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "The backend gateway of the chat and VoIP app: REST API, Kamailio hooks, XMPP component, pushes.",
        discussion: "Configuration comes from environment variables: `switchboard serve --help` lists them (docs/configuration.md).",
        version: BuildInfo.description,
        subcommands: [Serve.self, Migrate.self, CheckConfig.self, PushTest.self],
        defaultSubcommand: Serve.self)
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway (the default). Applies pending migrations once the database is up.",
        discussion: "Configuration, from environment variables (docs/configuration.md):\n\n"
            + ConfigurationVariable.all.map(\.plainText).joined(separator: "\n\n"))

    func run() throws {
        let configuration = Startup.configurationOrExit()
        let logger = Startup.logger()
        Startup.raiseFileLimit()
        EventLoop.queue.async {
            LoopActor.assumeIsolated {
                let app = Application(configuration: configuration, logger: logger)
                do {
                    try app.start()
                } catch {
                    logger.critical("cannot start: \(error)")
                    Glibc.exit(1)
                }
                // The first SIGTERM or SIGINT stops gracefully; a second one exits at once (exit 1),
                // for an operator who will not wait for the pushes in flight.
                Startup.onTermination {
                    LoopActor.assumeIsolated {
                        guard !app.stopRequested else {
                            logger.warning("second stop signal: exiting without waiting for the work in flight")
                            Glibc.exit(1)
                        }
                        app.requestStop()
                        spawnOnLoop {
                            await app.stop()
                            Glibc.exit(0)
                        }
                    }
                }
            }
        }
        dispatchMain()
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations, each once and in its own transaction, then exit. Needs only DATABASE_URL (or the DB_* variables).")

    @Option(help: "Seconds to wait for the database to accept connections.")
    var wait: Double = 10

    @Flag(help: "List the applied and the pending migrations; apply nothing.")
    var status = false

    func run() throws {
        let databaseURL: String
        switch ConfigurationReader.databaseURL(ProcessInfo.processInfo.environment) {
        case .success(let url): databaseURL = url
        case .failure(let errors):
            Startup.printError("switchboard: \(errors)")
            throw ExitCode(78)
        }
        let logger = Startup.logger()
        let wait = wait, listOnly = status
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<[String], any Error>?>(nil)
        spawnOnLoop {
            let pool = DatabasePool(conninfo: databaseURL, logger: logger)
            pool.start()
            // Gives up waiting for a connection after `wait` seconds: closing the pool ends the wait.
            let timeout = spawnOnLoop {
                await LoopClock.system.sleep(wait)
                if !Task.isCancelled, !pool.isAvailable { pool.close() }
            }
            await pool.untilAvailable()
            timeout.cancel()
            let result: Result<[String], any Error>
            do {
                if listOnly {
                    result = .success(try await MigrationRunner.status(SchemaMigrations.all, in: pool).map { migration, appliedAt in
                        "\(appliedAt.map { "applied \($0)" } ?? "pending") \(migration.version) \(migration.name)"
                    })
                } else {
                    let applied = try await MigrationRunner.apply(SchemaMigrations.all, to: pool)
                    result = .success([applied.isEmpty ? "migrations: nothing to apply"
                                       : "migrations: applied \(applied.map(String.init).joined(separator: ", "))"])
                }
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            pool.close()
            done.signal()
        }
        done.wait()
        switch outcome.withLock({ $0 }) {
        case .success(let lines)?:
            lines.forEach { print($0) }
        case .failure(let error)?:
            Startup.printError("switchboard migrate: \(error)")
            throw ExitCode(1)
        case nil:
            throw ExitCode(1)
        }
    }
}
