#if canImport(Glibc)
import Glibc
#endif
import Codecs
public import Logging

/// `LOG_FORMAT=json`: one JSON object per line on standard error, for log shippers: `time` (UTC,
/// milliseconds), `level`, `label`, `message`, then the metadata's keys (the logger's, then the
/// call's). Values are strings, as swift-log's metadata prints them; a key that would shadow one of
/// the four fixed fields is written with a leading underscore.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable ([UInt8]) -> Void

    /// `write` receives each line, newline included (standard error unless a test captures it).
    public init(label: String, write: @escaping @Sendable ([UInt8]) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message, explicit = event.metadata
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit { merged.merge(explicit) { _, new in new } }
        var fields: [(String, JSONValue)] = [("time", .string(Self.timestamp())), ("level", .string(level.rawValue)),
                                             ("label", .string(label)), ("message", .string(message.description))]
        let fixed: Set<String> = ["time", "level", "label", "message"]
        for key in merged.keys.sorted() {
            fields.append((fixed.contains(key) ? "_" + key : key, .string(merged[key]!.description)))
        }
        write(JSONValue.object(fields).bytes + [0x0A])
    }

    /// `2026-12-05T03:06:26.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }

    /// Writes the whole line with one `write(2)` (lines from several threads never interleave).
    public static let standardError: @Sendable ([UInt8]) -> Void = { line in
        line.withUnsafeBytes { raw in _ = Glibc.write(2, raw.baseAddress, raw.count) }
    }
}
