import Codecs
public import Logging

/// The id of the HTTP request being handled (docs/operations.md): the client's `X-Request-ID` when it is
/// one a log can carry safely, else a new one. It is returned in the answer's `X-Request-ID`, written
/// on the access line, and, through ``metadataProvider``, on every log line the request's handler
/// causes (a task-local: it follows the handler into the tasks it starts).
public enum RequestID {
    @TaskLocal public static var current: String?

    /// Adds `request_id` to every log line written while a request is being handled.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let id = current else { return [:] }
        return ["request_id": .string(id)]
    }

    /// The longest id taken from a client; a longer one is replaced.
    static let maximumLength = 128

    /// The client's id when it is 1–128 characters of letters, digits and `-._:` (a UUID, a hex
    /// trace id, a load balancer's `Root=1-…`), else a new one: a client must not be able to write
    /// spaces, quotes or newlines into the logs.
    static func accept(_ offered: String?) -> String {
        guard let offered, !offered.isEmpty, offered.utf8.count <= maximumLength,
              offered.utf8.allSatisfy(isAllowed) else { return generate() }
        return offered
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }

    /// 16 hex digits: a random per-process key mixed with a counter (SplitMix64), so ids are unique
    /// across instances and restarts without a system call per request.
    static func generate() -> String {
        counter &+= 1
        var z = seed &+ counter &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Hex.lower(withUnsafeBytes(of: z.bigEndian, Array.init))
    }

    // Touched on the loop only (the server's callbacks run there).
    nonisolated(unsafe) private static var counter: UInt64 = 0
    private static let seed: UInt64 = .random(in: .min ... .max)
}
