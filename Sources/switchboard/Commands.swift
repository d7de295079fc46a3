import Logging
import Postgres
import Config
import ArgumentParser
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
        discussion: "Configuration comes from environment variables (see CONTRACTS §6 and README.md).",
        subcommands: [Serve.self, Migrate.self],
        defaultSubcommand: Serve.self)
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway (the default). Applies pending migrations once the database is up.")

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
                Startup.onTermination { spawnOnLoop { await app.stop(); Glibc.exit(0) } }
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
        let deadline = Date().addingTimeInterval(wait)
        let done = DispatchSemaphore(value: 0)
        let box = UnsafeSendableBox<Result<[Int], any Error>?>(nil)
        spawnOnLoop {
            let pool = DatabasePool(conninfo: configuration.databaseURL, logger: logger)
            pool.start()
            while !pool.isAvailable, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            do {
                box.value = .success(try await MigrationRunner.apply(SchemaMigrations.all, to: pool))
            } catch {
                box.value = .failure(error)
            }
            pool.close()
            done.signal()
        }
        done.wait()
        switch box.value {
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

/// A reference box so a task can hand its result back to the blocked main thread.
final class UnsafeSendableBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
