import ArgumentParser
import Config
import FoundationEssentials
import Postgres
#if canImport(Glibc)
import Glibc
#endif

/// `switchboard check-config [--connect]`, as `nginx -t` or `kamailio -c`: the environment and the key
/// files checked as `serve` checks them, every problem printed at once (exit 78), warnings too (a
/// misspelt variable, a key file others can read); with `--connect`, also a connection to each
/// database and a handshake on each component stream.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration (and with --connect, the database and ejabberd) without starting; exit 0 or 78.")

    @Flag(help: "Also connect to PostgreSQL (DATABASE_URL, EJABBERD_DATABASE_URL) and handshake with ejabberd's component listeners.")
    var connect = false

    func run() throws {
        let configuration: Configuration
        switch ConfigurationReader.read(ProcessInfo.processInfo.environment) {
        case .success(let read):
            configuration = read
        case .failure(let errors):
            print("switchboard: \(errors)")
            throw ExitCode(78)
        }
        for warning in configuration.warnings { print("warning: \(warning)") }
        var failures: [String] = []
        if connect {
            for (name, url) in [("DATABASE_URL", configuration.databaseURL), ("EJABBERD_DATABASE_URL", configuration.ejabberdDatabaseURL)] {
                if let problem = DatabaseAddress.probe(url) {
                    failures.append("\(name) (\(DatabaseAddress.redacted(url))): \(problem)")
                } else {
                    print("ok: \(name) (\(DatabaseAddress.redacted(url))) accepts connections")
                }
            }
            let components = [("XMPP_COMPONENT", configuration.adminComponent, configuration.adminComponentDomain, configuration.adminComponentSecret),
                              ("PUSH_COMPONENT", configuration.pushComponent, configuration.pushComponentDomain, configuration.pushComponentSecret)]
            for (name, endpoint, domain, secret) in components {
                if let problem = ComponentProbe.handshake(host: endpoint.host, port: endpoint.port, domain: domain, secret: secret) {
                    failures.append("\(name)_HOST/PORT/SECRET (\(domain) at \(endpoint.host):\(endpoint.port)): \(problem)")
                } else {
                    print("ok: ejabberd at \(endpoint.host):\(endpoint.port) accepts \(domain)'s handshake")
                }
            }
        }
        guard failures.isEmpty else {
            print("switchboard: \(failures.count) connection problem\(failures.count == 1 ? "" : "s"):")
            failures.forEach { print("  - \($0)") }
            throw ExitCode(78)
        }
        print("switchboard \(BuildInfo.description): configuration ok")
    }
}
