/// How one push ended after all its attempts: what its log line says (docs/operations.md) and what the
/// operator endpoint shows as a device's last outcome.
public struct PushEnding: Sendable, Equatable {
    public enum Result: String, Sendable {
        case delivered
        /// The provider says the token is dead; the registration was cleared.
        case tokenDead = "token_dead"
        /// Our credentials or configuration were refused (the provider needs attention).
        case configuration
        /// The request itself was refused (payload, argument); the token is kept.
        case rejected
        /// Transient failures until the push's deadline or the last retry.
        case expired
        /// No provider is configured for the device's platform.
        case noProvider = "no_provider"
    }

    public let result: Result
    /// The provider's reason (`Unregistered`, `UNAVAILABLE`), or nil when it gave none.
    public let reason: String?
    /// The provider's id for the message: APNs' `apns-id`, FCM's `projects/…/messages/…`.
    public let messageID: String?
    /// Attempts made, retries included.
    public let attempts: Int
    /// `message`, `call` or `call_cancelled`.
    public let kind: String
    /// When it ended, seconds since 1970.
    public let endedAt: Int64

    public init(result: Result, reason: String?, messageID: String?, attempts: Int, kind: String, endedAt: Int64) {
        self.result = result
        self.reason = reason
        self.messageID = messageID
        self.attempts = attempts
        self.kind = kind
        self.endedAt = endedAt
    }

    /// The ending of a push whose last answer was `outcome` after `attempts` attempts.
    init(_ outcome: ProviderOutcome, attempts: Int, kind: PushKind, endedAt: Int64) {
        let (result, reason, messageID): (Result, String?, String?) = switch outcome {
        case .delivered(let id): (.delivered, nil, id)
        case .tokenDead(_, let reason): (.tokenDead, reason, nil)
        case .configuration(let reason): (.configuration, reason, nil)
        case .rejected(let reason): (.rejected, reason, nil)
        case .retry: (.expired, nil, nil)
        }
        self.init(result: result, reason: reason, messageID: messageID, attempts: attempts, kind: kind.logName, endedAt: endedAt)
    }
}

extension PushKind {
    /// `message`, `call` or `call_cancelled`, for logs and the operator endpoint.
    public var logName: String {
        switch self {
        case .message: "message"
        case .call: "call"
        case .callCancelled: "call_cancelled"
        }
    }
}

/// The last ending per device, for the operator endpoint, in bounded memory: two generations of at
/// most `capacity` devices each; when the newer is full it becomes the older and the oldest is
/// dropped, so a device pushed to recently is always found and a million devices cannot grow it.
/// Per instance and since its start (docs/operations.md says so).
struct RecentEndings {
    let capacity: Int
    private var newer: [String: PushEnding] = [:]
    private var older: [String: PushEnding] = [:]

    init(capacity: Int) { self.capacity = capacity }

    mutating func record(_ ending: PushEnding, device: String) {
        if newer.count >= capacity, newer[device] == nil {
            older = newer
            newer = [:]
        }
        newer[device] = ending
    }

    func last(device: String) -> PushEnding? { newer[device] ?? older[device] }
}
