import Config
import Dispatch
import Loop
import FoundationEssentials
import HTTPServer
import Logging
import Logs
import Services
#if canImport(Glibc)
import Glibc
#endif

/// Process-level set-up shared by the commands.
enum Startup {
    /// Reads and validates the environment; on any problem prints them all and exits 78 (EX_CONFIG).
    static func configurationOrExit() -> Configuration {
        switch ConfigurationReader.read(ProcessInfo.processInfo.environment) {
        case .success(let configuration):
            return configuration
        case .failure(let errors):
            printError("switchboard: \(errors)")
            Glibc.exit(78)
        }
    }

    /// Writes a line to standard error, unbuffered.
    static func printError(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        _ = write(2, &bytes, bytes.count)
    }

    /// Text lines, or JSON lines with `LOG_FORMAT=json` (checked with the rest of the configuration).
    static func logger() -> Logger {
        let environment = ProcessInfo.processInfo.environment
        let level = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let json = environment["LOG_FORMAT"] == "json"
        // Every line written while an HTTP request is handled carries its `request_id`.
        LoggingSystem.bootstrap({ label, provider in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                handler.metadataProvider = provider
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label, metadataProvider: provider)
            handler.logLevel = level
            return handler
        }, metadataProvider: RequestID.metadataProvider)
        return Logger(label: "switchboard")
    }

    /// Every connection is an fd: take the hard limit rather than the usual soft 1024.
    static func raiseFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// The descriptors this process may open (after ``raiseFileLimit()``).
    static func fileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1 << 20 }
        return Int(clamping: limit.rlim_cur)
    }

    /// Runs `handler` once on the loop on SIGTERM or SIGINT.
    static func onTermination(_ handler: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: EventLoop.queue)
            source.setEventHandler(handler: handler)
            source.resume()
            retainedSignalSources.append(source)
        }
    }

    nonisolated(unsafe) private static var retainedSignalSources: [any DispatchSourceSignal] = []
}
