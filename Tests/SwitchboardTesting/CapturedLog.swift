import Foundation
public import Logging

/// Log lines kept for assertions, from any thread.
public final class CapturedLines: @unchecked Sendable {
    public struct Line: Sendable { public let level: Logger.Level; public let message: String; public let metadata: [String: String] }
    private let lock = NSLock()
    private var lines: [Line] = []
    public init() {}
    public var all: [Line] { lock.withLock { lines } }
    public func append(_ line: Line) { lock.withLock { lines.append(line) } }
    public func clear() { lock.withLock { lines = [] } }
}

/// A handler that keeps every line with its metadata (the provider's too) in `lines`.
public struct CapturingHandler: LogHandler {
    let lines: CapturedLines
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(lines: CapturedLines, metadataProvider: Logger.MetadataProvider? = nil) {
        self.lines = lines
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        merged.merge(metadataProvider?.get() ?? [:]) { $1 }
        merged.merge(event.metadata ?? [:]) { $1 }
        lines.append(.init(level: event.level, message: event.message.description, metadata: merged.mapValues(\.description)))
    }
}
