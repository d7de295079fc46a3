public import Codecs
public import Crypto

/// What reaches phones (docs/pushes.md): one notification kind per use, with the APNs headers and
/// payload and the FCM data of each. Pure builders; providers send them.
public enum PushKind: Equatable, Sendable {
    /// A new message; `sender` only when ejabberd sent one; `conversation` becomes the collapse id.
    case message(sender: String?, conversation: String?)
    case call(callID: String, caller: String, callerDisplay: String?, callee: String)
    case callCancelled(callID: String, reason: String)

    /// The notification's payload fields (the APNs `aps` dictionary aside), all strings so that FCM
    /// data can carry them unchanged.
    public var data: [(String, String)] {
        switch self {
        case .message(let sender, _):
            return [("type", "message")] + (sender.map { [("sender", $0)] } ?? [])
        case .call(let callID, let caller, let display, let callee):
            return [("type", "call"), ("call_id", callID), ("caller", caller), ("caller_display", display ?? caller), ("callee", callee)]
        case .callCancelled(let callID, let reason):
            return [("type", "call_cancelled"), ("call_id", callID), ("reason", reason)]
        }
    }

    var isCall: Bool { if case .message = self { return false } else { return true } }
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
        case .call, .callCancelled:
            return [("apns-push-type", "voip"), ("apns-topic", appID + ".voip"), ("apns-priority", "10"), ("apns-expiration", "0")]
        }
    }

    public static func payload(_ kind: PushKind) -> JSONValue {
        let fields = kind.data.map { ($0.0, JSONValue.string($0.1)) }
        guard !kind.isCall else { return .object(fields) }
        // No message text ever: the app fetches the message and shows it (mutable-content).
        let aps = JSONValue.object([("alert", .object([("loc-key", .string("NEW_MESSAGE"))])), ("sound", .string("default")),
                                    ("mutable-content", .int(1))])
        return .object([("aps", aps)] + fields)
    }

    /// APNs refuses collapse ids over 64 bytes: longer conversation keys are hashed down.
    static func collapseID(_ conversation: String) -> String? {
        guard !conversation.isEmpty else { return nil }
        if conversation.utf8.count <= 64 { return conversation }
        return Hex.lower(Array(Digest.sha256(Array(conversation.utf8)).prefix(16)))
    }
}

public enum FCMRequest {
    /// The `messages:send` body: data-only, high priority; calls live only for the ring window.
    public static func body(_ kind: PushKind, token: String, ringSeconds: Int) -> JSONValue {
        let ttl = kind.isCall ? "\(ringSeconds)s" : "86400s"
        return .object([("message", .object([
            ("token", .string(token)),
            ("data", .object(kind.data.map { ($0.0, .string($0.1)) })),
            ("android", .object([("priority", .string("high")), ("ttl", .string(ttl))])),
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
