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
        subcommands: [Serve.self, Migrate.self, CheckConfig.self],
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
        abstract: "Apply pending database migrations, each once and in its own transaction, then exit.")

    @Option(help: "Seconds to wait for the database to accept connections.")
    var wait: Double = 10

    func run() throws {
        let configuration = Startup.configurationOrExit()
        let logger = Startup.logger()
        let wait = wait
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<[Int], any Error>?>(nil)
        spawnOnLoop {
            let pool = DatabasePool(conninfo: configuration.databaseURL, logger: logger)
            pool.start()
            // Gives up waiting for a connection after `wait` seconds: closing the pool ends the wait.
            let timeout = spawnOnLoop {
                await LoopClock.system.sleep(wait)
                if !Task.isCancelled, !pool.isAvailable { pool.close() }
            }
            await pool.untilAvailable()
            timeout.cancel()
            let result: Result<[Int], any Error>
            do {
                result = .success(try await MigrationRunner.apply(SchemaMigrations.all, to: pool))
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            pool.close()
            done.signal()
        }
        done.wait()
        switch outcome.withLock({ $0 }) {
        case .success(let applied)?:
            print(applied.isEmpty ? "migrations: nothing to apply" : "migrations: applied \(applied.map(String.init).joined(separator: ", "))")
        case .failure(let error)?:
            Startup.printError("switchboard migrate: \(error)")
            throw ExitCode(1)
        case nil:
            throw ExitCode(1)
        }
    }
}
