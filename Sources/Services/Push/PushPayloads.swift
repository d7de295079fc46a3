public import Codecs
public import Crypto

/// What reaches phones (docs/pushes.md, docs/calls.md): one notification kind per use, with the APNs
/// headers and payload and the FCM data of each. Pure builders; providers send them.
public enum PushKind: Equatable, Sendable {
    /// A new message; `sender` only when ejabberd sent one; `conversation` becomes the collapse id.
    case message(sender: String?, conversation: String?)
    /// A call ringing until `deadline` (unix seconds, the ring window's end), to the call token.
    case call(callID: String, caller: String, callerDisplay: String?, callee: String, deadline: Int64)
    /// The call is over before this device answered, to the device's message token: never a VoIP
    /// push, which iOS would make the app report as a new call (docs/calls.md).
    case callCancelled(callID: String, reason: SIPCall.CancelReason, caller: String, callerDisplay: String?)

    /// The notification's payload fields (the APNs `aps` dictionary aside), all strings so that FCM
    /// data can carry them unchanged.
    public var data: [(String, String)] {
        switch self {
        case .message(let sender, _):
            return [("type", "message")] + (sender.map { [("sender", $0)] } ?? [])
        case .call(let callID, let caller, let display, let callee, let deadline):
            return [("type", "call"), ("call_id", callID), ("caller", caller), ("caller_display", display ?? caller), ("callee", callee),
                    ("deadline", String(deadline))]
        case .callCancelled(let callID, let reason, let caller, let display):
            return [("type", "call_cancelled"), ("call_id", callID), ("reason", reason.rawValue), ("caller", caller),
                    ("caller_display", display ?? caller)]
        }
    }

    var isCall: Bool { if case .message = self { return false } else { return true } }

    /// Whether the call ended unanswered: the device shows a missed call.
    var isMissedCall: Bool {
        if case .callCancelled(_, let reason, _, _) = self { return reason != .answeredElsewhere }
        return false
    }
}

public enum APNsRequest {
    /// Headers for `kind` to the app `appID`, at `now`.
    public static func headers(_ kind: PushKind, appID: String, now: Int64) -> [(String, String)] {
        switch kind {
        case .message(_, let conversation):
            var headers = [("apns-push-type", "alert"), ("apns-topic", appID), ("apns-priority", "10"),
                           ("apns-expiration", String(now + 24 * 3600))]
            if let conversation, let collapse = collapseID(conversation) { headers.append(("apns-collapse-id", collapse)) }
            return headers
        case .call(_, _, _, _, let deadline):
            // APNs keeps the push until the ring window ends: a phone without signal for a moment
            // still rings, one back after the window never does.
            return [("apns-push-type", "voip"), ("apns-topic", appID + ".voip"), ("apns-priority", "10"), ("apns-expiration", String(deadline))]
        case .callCancelled(let callID, _, _, _):
            // One notification per call on the phone: a later cancel replaces an earlier one.
            let collapse = collapseID(callID).map { [("apns-collapse-id", $0)] } ?? []
            if kind.isMissedCall {
                return [("apns-push-type", "alert"), ("apns-topic", appID), ("apns-priority", "10"),
                        ("apns-expiration", String(now + 24 * 3600))] + collapse
            }
            // Apple requires priority 5 for background pushes.
            return [("apns-push-type", "background"), ("apns-topic", appID), ("apns-priority", "5"),
                    ("apns-expiration", String(now + 3600))] + collapse
        }
    }

    public static func payload(_ kind: PushKind) -> JSONValue {
        let fields = kind.data.map { name, value in
            // The call's deadline is a number in JSON (FCM data can only carry strings).
            (name, name == "deadline" ? JSONValue.int64(Int64(value) ?? 0) : JSONValue.string(value))
        }
        switch kind {
        case .message:
            // No message text ever: the app fetches the message and shows it (mutable-content).
            let aps = JSONValue.object([("alert", .object([("loc-key", .string("NEW_MESSAGE"))])), ("sound", .string("default")),
                                        ("mutable-content", .int(1))])
            return .object([("aps", aps)] + fields)
        case .call:
            return .object(fields)
        case .callCancelled(_, _, let caller, let display):
            let aps: JSONValue = kind.isMissedCall
                ? .object([("alert", .object([("loc-key", .string("MISSED_CALL")), ("loc-args", .strings([display ?? caller]))])),
                           ("sound", .string("default")), ("thread-id", .string("calls"))])
                : .object([("content-available", .int(1))])
            return .object([("aps", aps)] + fields)
        }
    }

    /// APNs refuses collapse ids over 64 bytes: longer keys (a conversation, a Call-ID) are hashed down.
    static func collapseID(_ key: String) -> String? {
        guard !key.isEmpty else { return nil }
        if key.utf8.count <= 64 { return key }
        return Hex.lower(Array(Digest.sha256(Array(key.utf8)).prefix(16)))
    }
}

public enum FCMRequest {
    /// The `messages:send` body at `now` (unix seconds): data-only, high priority. Messages live a
    /// day and collapse per conversation; a call lives for what is left of its ring window; a cancel
    /// lives an hour and collapses per call.
    public static func body(_ kind: PushKind, token: String, now: Int64) -> JSONValue {
        var android: [(String, JSONValue)] = [("priority", .string("high"))]
        switch kind {
        case .message(_, let conversation):
            android.append(("ttl", .string("86400s")))
            if let collapse = conversation.flatMap(APNsRequest.collapseID) { android.append(("collapse_key", .string(collapse))) }
        case .call(_, _, _, _, let deadline):
            android.append(("ttl", .string("\(max(1, deadline - now))s")))
        case .callCancelled(let callID, _, _, _):
            android.append(("ttl", .string("3600s")))
            if let collapse = APNsRequest.collapseID(callID) { android.append(("collapse_key", .string(collapse))) }
        }
        return .object([("message", .object([
            ("token", .string(token)),
            ("data", .object(kind.data.map { ($0.0, .string($0.1)) })),
            ("android", .object(android)),
        ]))])
    }

    public static let scope = "https://www.googleapis.com/auth/firebase.messaging"

    /// The claims of the RS256 JWT-bearer grant to the service account's `token_uri`.
    public static func assertionClaims(clientEmail: String, tokenURI: String, now: Int64) -> JSONValue {
        .object([("iss", .string(clientEmail)), ("scope", .string(scope)), ("aud", .string(tokenURI)),
                 ("iat", .int64(now)), ("exp", .int64(now + 3600))])
    }
}

/// The APNs provider token (ES256 JWT: `kid`, `iss`, `iat`), reused and renewed after 40 minutes:
/// Apple rejects tokens older than 60 minutes and answers 429 TooManyProviderTokenUpdates to renewals
/// more often than every 20.
public struct APNsProviderToken: Sendable {
    public static let renewAfterSeconds: Int64 = 40 * 60

    private let key: SigningKey
    private let keyID: String
    private let teamID: String
    private var current: (token: String, issuedAt: Int64)?

    public init(key: SigningKey, keyID: String, teamID: String) {
        self.key = key
        self.keyID = keyID
        self.teamID = teamID
    }

    /// Drops `token` if it is still the one in use (APNs answered ExpiredProviderToken: the clocks
    /// disagree about its age); the next call signs a new one. A token already replaced is left alone,
    /// so a burst of refused pushes renews once, not once each (Apple refuses frequent renewals).
    public mutating func expire(_ token: String) {
        if current?.token == token { current = nil }
    }

    public mutating func token(now: Int64) -> String {
        if let current, now - current.issuedAt < Self.renewAfterSeconds, now >= current.issuedAt { return current.token }
        let token = JWS.sign(header: [("kid", .string(keyID))], claims: .object([("iss", .string(teamID)), ("iat", .int64(now))]), with: key)
        current = (token, now)
        return token
    }
}
