public import Codecs

/// Every provider answer, classified into the few cases that drive behaviour (as Sygnal does): the
/// retry policy, token clean-up and the XMPP answer all follow from the case alone.
public enum ProviderOutcome: Equatable, Sendable {
    /// The provider took it; `messageID` is its name for the message (APNs' `apns-id`, FCM's
    /// `projects/…/messages/…`), for the outcome's log line.
    case delivered(messageID: String?)
    /// Transient (5xx, 429, timeouts): retry with backoff, at the earliest after `after` seconds.
    case retry(after: Double?)
    /// The token is dead; clear it. `since` (APNs 410 timestamp, ms) when the provider says;
    /// `reason` as the provider said it (`Unregistered`, `UNREGISTERED`).
    case tokenDead(since: Int64?, reason: String)
    /// Our credentials or configuration are wrong (expired provider token, wrong topic): no retry of
    /// this push; the provider needs attention.
    case configuration(String)
    /// The request itself was refused (payload too large, bad argument): no retry, token kept.
    case rejected(String)

    /// The case's name for metrics and logs: `delivered`, `retry`, `token_dead`, `configuration`, `rejected`.
    public var name: String {
        switch self {
        case .delivered: "delivered"
        case .retry: "retry"
        case .tokenDead: "token_dead"
        case .configuration: "configuration"
        case .rejected: "rejected"
        }
    }

    /// APNs: status, the `reason` of the JSON body, its `timestamp`, `Retry-After`, and `apns-id`.
    public static func apns(status: Int, body: JSONValue?, retryAfter: String?, apnsID: String? = nil) -> ProviderOutcome {
        let reason = body?["reason"]?.stringValue ?? ""
        switch (status, reason) {
        case (200, _): return .delivered(messageID: apnsID)
        case (410, _): return .tokenDead(since: body?["timestamp"]?.int64Value, reason: reason.isEmpty ? "status 410" : reason)
        case (400, "BadDeviceToken"), (400, "DeviceTokenNotForTopic"): return .tokenDead(since: nil, reason: reason)
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
        guard status != 200 else { return .delivered(messageID: body?["name"]?.stringValue) }
        let error = body?["error"]
        var code = error?["status"]?.stringValue ?? ""
        if case .array(let details)? = error?["details"], let detail = details.compactMap({ $0["errorCode"]?.stringValue }).first {
            code = detail
        }
        switch code {
        case "UNREGISTERED", "SENDER_ID_MISMATCH": return .tokenDead(since: nil, reason: code)
        case "QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL": return .retry(after: RetryAfter.seconds(retryAfter))
        case "THIRD_PARTY_AUTH_ERROR", "PERMISSION_DENIED", "UNAUTHENTICATED": return .configuration(code)
        default:
            if status == 401 || status == 403 { return .configuration(code.isEmpty ? "status \(status)" : code) }
            if status == 429 || status >= 500 { return .retry(after: RetryAfter.seconds(retryAfter)) }
            return .rejected(code.isEmpty ? "status \(status)" : code)
        }
    }
}
