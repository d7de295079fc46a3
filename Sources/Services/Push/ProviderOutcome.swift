#if canImport(Glibc)
import Glibc
#endif

/// Every provider answer, classified into the few cases that drive behaviour (as Sygnal does): the
/// retry policy, token clean-up and the XMPP answer all follow from the case alone.
public enum ProviderOutcome: Equatable, Sendable {
    case delivered
    /// Transient (5xx, 429, timeouts): retry with backoff, at the earliest after `after` seconds.
    case retry(after: Double?)
    /// The token is dead; clear it. `since` (APNs 410 timestamp, ms) when the provider says.
    case tokenDead(since: Int64?)
    /// Our credentials or configuration are wrong (expired provider token, wrong topic): no retry of
    /// this push; the provider needs attention.
    case configuration(String)
    /// The request itself was refused (payload too large, bad argument): no retry, token kept.
    case rejected(String)

    /// APNs: status, the `reason` of the JSON body, its `timestamp`, and `Retry-After`.
    public static func apns(status: Int, body: JSONValue?, retryAfter: String?) -> ProviderOutcome {
        let reason = body?["reason"]?.stringValue ?? ""
        switch (status, reason) {
        case (200, _): return .delivered
        case (410, _): return .tokenDead(since: body?["timestamp"]?.int64Value)
        case (400, "BadDeviceToken"), (400, "DeviceTokenNotForTopic"): return .tokenDead(since: nil)
        case (403, _), (400, "TopicDisallowed"), (400, "BadTopic"): return .configuration(reason)
        // 429 TooManyProviderTokenUpdates included: it refuses a token *change* on the connection (a
        // renewal after ExpiredProviderToken, another instance's token); the pushes right after it,
        // with the token now in use, go through, so the push is retried rather than lost.
        case (429, _), (500...599, _): return .retry(after: RetryAfter.seconds(retryAfter))
        default: return .rejected(reason.isEmpty ? "status \(status)" : reason)
        }
    }

    /// FCM HTTP v1: status, the error's `details[].errorCode` (or its `status`), and `Retry-After`.
    public static func fcm(status: Int, body: JSONValue?, retryAfter: String?) -> ProviderOutcome {
        guard status != 200 else { return .delivered }
        let error = body?["error"]
        var code = error?["status"]?.stringValue ?? ""
        if case .array(let details)? = error?["details"], let detail = details.compactMap({ $0["errorCode"]?.stringValue }).first {
            code = detail
        }
        switch code {
        case "UNREGISTERED", "SENDER_ID_MISMATCH": return .tokenDead(since: nil)
        case "QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL": return .retry(after: RetryAfter.seconds(retryAfter))
        case "THIRD_PARTY_AUTH_ERROR", "PERMISSION_DENIED", "UNAUTHENTICATED": return .configuration(code)
        default:
            if status == 401 || status == 403 { return .configuration(code.isEmpty ? "status \(status)" : code) }
            if status == 429 || status >= 500 { return .retry(after: RetryAfter.seconds(retryAfter)) }
            return .rejected(code.isEmpty ? "status \(status)" : code)
        }
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date (IMF-fixdate,
/// "Tue, 14 Jul 2026 03:33:50 GMT") counted from now. Anything else (negative, not finite, another
/// date form) is ignored: the backoff applies.
enum RetryAfter {
    static func seconds(_ raw: String?, now: Double = Double(time(nil))) -> Double? {
        guard let raw, !raw.isEmpty else { return nil }
        if let seconds = Double(raw) { return seconds >= 0 && seconds.isFinite ? seconds : nil }
        return httpDate(raw).map { max(0, $0 - now) }
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let weekdays: Set<Substring> = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"]

    /// Seconds since the epoch of an IMF-fixdate.
    static func httpDate(_ text: String) -> Double? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 6, weekdays.contains(parts[0]), parts[5] == "GMT", parts[1].count == 2, parts[3].count == 4,
              let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])), let year = Int(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
              let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
              (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        return Double(daysSinceEpoch(year: year, month: month + 1, day: day) * 86_400 + hour * 3600 + minute * 60 + second)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Duration {
    /// In seconds, as the push deadlines count.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
