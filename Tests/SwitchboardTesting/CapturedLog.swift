import Codecs
import Foundation
public import Logging
import Logs

/// Log lines kept for assertions, from any thread: written by the product's own ``JSONLogHandler``
/// (what `LOG_FORMAT=json` writes) into memory, and read back as level, message and metadata.
public final class CapturedLines: @unchecked Sendable {
    public struct Line: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]

        public init(level: Logger.Level, message: String, metadata: [String: String]) {
            self.level = level
            self.message = message
            self.metadata = metadata
        }
    }

    private let lock = NSLock()
    private var lines: [Line] = []
    public init() {}
    public var all: [Line] { lock.withLock { lines } }
    public func append(_ line: Line) { lock.withLock { lines.append(line) } }
    public func clear() { lock.withLock { lines = [] } }

    /// A handler that writes here, every level on, with `metadataProvider` as the bootstrap sets it.
    public func handler(label: String = "test", metadataProvider: Logger.MetadataProvider? = nil) -> any LogHandler {
        var handler = JSONLogHandler(label: label) { [self] bytes in
            guard case .object(let fields)? = try? JSONValue.parse(bytes.dropLast()) else { return }
            var values: [String: String] = [:]
            for (key, value) in fields { values[key] = value.stringValue }
            let level = values.removeValue(forKey: "level").flatMap(Logger.Level.init(rawValue:)) ?? .critical
            let message = values.removeValue(forKey: "message") ?? ""
            values["time"] = nil
            values["label"] = nil
            append(Line(level: level, message: message, metadata: values))
        }
        handler.logLevel = .trace
        handler.metadataProvider = metadataProvider
        return handler
    }
}
