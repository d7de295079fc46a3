import Codecs
import Crypto
public import Postgres
public import Logging
public import Loop

/// Delivery policy of CONTRACTS §4: each push is tried at most 4 times (3 retries) with jittered
/// exponential backoff that honours Retry-After, never past its deadline; a dead token is cleared
/// (and the node's next publish is answered item-not-found); provider 5xx/429/timeouts never touch
/// the registration. A bounded queue per provider: when it is full, publishes are answered `wait`.
@LoopActor
public final class PushDelivery {
    public struct Counters: Equatable, Sendable {
        public var sent = 0, failed = 0, retried = 0, dead = 0
        public init() {}
    }

    public struct Target: Sendable {
        /// Which of the device's tokens this is: the regular one, or an iOS device's PushKit token.
        public enum TokenKind: Sendable { case push, voip }

        public let deviceUUID: String
        public let platform: PushRegistrations.Device.Platform
        public let token: String
        public let tokenKind: TokenKind
        public let appID: String
        public let sandbox: Bool
    }

    public let queueLimit: Int

    private let apns: APNsProvider?
    private let fcm: FCMProvider?
    private let ringSeconds: Int
    private let database: DatabasePool
    private let logger: Logger
    private let clock: PushClock
    /// Pushes queued or in flight, per platform: one failing provider never fills the other's queue.
    private var pending: [PushRegistrations.Device.Platform: Int] = [:]
    public private(set) var counters: [PushRegistrations.Device.Platform: Counters] = [.ios: Counters(), .android: Counters()]

    public init(apns: APNsProvider?, fcm: FCMProvider?, ringSeconds: Int, database: DatabasePool, logger: Logger,
                queueLimit: Int = 10_000, clock: PushClock = .system) {
        self.apns = apns
        self.fcm = fcm
        self.ringSeconds = ringSeconds
        self.database = database
        self.logger = logger
        self.queueLimit = queueLimit
        self.clock = clock
    }

    /// Connections the platform's provider opened and retired so far; nil when it is not configured.
    public func connections(_ platform: PushRegistrations.Device.Platform) -> (opened: Int, retired: Int)? {
        platform == .ios ? apns?.connections : fcm?.connections
    }

    /// Whether another push for `platform` can be queued now (else the publish is answered `wait`).
    public func hasRoom(for platform: PushRegistrations.Device.Platform) -> Bool { pending[platform, default: 0] < queueLimit }

    /// Queues `kind` for `target`; returns at once. `deadline` in seconds from now.
    public func deliver(_ kind: PushKind, to target: Target, deadline: Double) {
        let platform = target.platform
        let attempt: @LoopActor (String, Double) async -> ProviderOutcome
        switch platform {
        case .ios:
            guard let apns else { return dropped(target) }
            attempt = { id, timeout in
                await apns.send(kind, deviceToken: target.token, appID: target.appID, sandbox: target.sandbox, apnsID: id, timeout: timeout)
            }
        case .android:
            guard let fcm else { return dropped(target) }
            let ring = ringSeconds
            attempt = { _, timeout in await fcm.send(kind, deviceToken: target.token, ringSeconds: ring, timeout: timeout) }
        }
        pending[platform, default: 0] += 1
        let pushID = UUIDString.random()
        spawnOnLoop { [self] in
            defer { pending[platform, default: 1] -= 1 }
            let ending = await RetryLoop.run(deadline: deadline, clock: clock, onRetry: { self.counters[platform]?.retried += 1 }) { timeout in
                await attempt(pushID, timeout)
            }
            switch ending.outcome {
            case .delivered:
                counters[platform]?.sent += 1
            case .tokenDead(let since):
                counters[platform]?.dead += 1
                await markDead(target, since: since)
            case .configuration(let reason), .rejected(let reason):
                counters[platform]?.failed += 1
                logger.error("push refused by the provider", metadata: ["platform": "\(platform.rawValue)", "reason": "\(reason)"])
            case .retry:
                counters[platform]?.failed += 1
                logger.warning("push not delivered before its deadline", metadata: ["platform": "\(platform.rawValue)", "attempts": "\(ending.retries + 1)"])
            }
        }
    }

    private func dropped(_ target: Target) {
        counters[target.platform]?.failed += 1
        logger.warning("no provider configured for this device; push dropped", metadata: ["platform": "\(target.platform.rawValue)"])
    }

    /// Marks the token dead, unless it was registered again after the provider's `since` (APNs 410).
    private func markDead(_ target: Target, since: Int64?) async {
        let sinceSeconds = since.map { String(Double($0) / 1000) }
        let (marker, column) = target.tokenKind == .voip ? ("voip_token_dead_at", "voip_token") : ("push_token_dead_at", "push_token")
        _ = try? await database.query("""
            UPDATE push_registrations SET \(marker) = now()
            WHERE device_uuid = $1 AND \(column) = $2
              AND ($3::double precision IS NULL OR updated_at <= to_timestamp($3::double precision))
            """, [target.deviceUUID, target.token, sinceSeconds])
        logger.info("device token dead; cleared", metadata: ["device": "\(target.deviceUUID.prefix(8))…"])
    }
}

/// Jittered exponential backoff: 0.2 s, 0.4 s, 0.8 s … (50–100 % each), or Retry-After when longer.
enum RetryDelay {
    static let backoff = Backoff(initial: 0.2)

    static func next(attempt: Int, retryAfter: Double?, random: Double = Double.random(in: 0.5...1.0)) -> Double {
        max(backoff.delay(attempt: attempt, random: random), retryAfter ?? 0)
    }
}

/// A random UUID string (RFC 4122 version 4), as APNs wants for `apns-id`. One per push: written
/// straight into the string's storage (the push flood's profile had it at 3 % with slices and joins).
enum UUIDString {
    static func random() -> String {
        var bytes = SecureRandom.bytes(16)
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var at = 0
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[at] = UInt8(ascii: "-")
                    at += 1
                }
                buffer[at] = Hex.lowercaseDigits[Int(byte >> 4)]
                buffer[at + 1] = Hex.lowercaseDigits[Int(byte & 0x0F)]
                at += 2
            }
            return at
        }
    }
}

extension PushDelivery.Target {
    /// Row `row` of a `push_registrations` query selecting `device_uuid`, `platform`, `token`,
    /// `app_id` and `environment`; nil when a column is missing or invalid. (In an extension, so the
    /// memberwise initializer stays.)
    init?(row: Int, of result: QueryResult, tokenKind: TokenKind) {
        guard let uuid = result.value(row, "device_uuid"), let platform = result.value(row, "platform").flatMap(PushRegistrations.Device.Platform.init),
              let token = result.value(row, "token"), let appID = result.value(row, "app_id")
        else { return nil }
        self.init(deviceUUID: uuid, platform: platform, token: token, tokenKind: tokenKind, appID: appID,
                  sandbox: result.value(row, "environment") == "sandbox")
    }
}
