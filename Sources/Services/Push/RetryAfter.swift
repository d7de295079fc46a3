#if canImport(Glibc)
import Glibc
#endif
import Codecs

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date (IMF-fixdate,
/// "Tue, 14 Jul 2026 03:33:50 GMT") counted from now. Anything else (negative, not finite, another
/// date form) is ignored: the backoff applies.
enum RetryAfter {
    static func seconds(_ raw: String?, now: Double = Double(time(nil))) -> Double? {
        guard let raw, !raw.isEmpty else { return nil }
        if let seconds = Double(raw) { return seconds >= 0 && seconds.isFinite ? seconds : nil }
        return HTTPDate.seconds(raw).map { max(0, $0 - now) }
    }
}
