import Codecs
import Crypto
public import Logging
public import Loop

/// Delivery policy of docs/pushes.md: each push is tried at most 4 times (3 retries) with jittered
/// exponential backoff that honours Retry-After, never past its deadline; a dead token is cleared
/// (and the node's next publish is answered item-not-found); provider 5xx/429/timeouts never touch
/// the registration. A bounded queue per provider: when it is full, publishes are answered `wait`.
///
/// Providers sit in a table by platform (``PushProvider``); nothing here knows one from another.
@LoopActor
public final class PushDelivery: Service {
    public struct Counters: Equatable, Sendable {
        public var sent = 0, failed = 0, retried = 0, dead = 0
        public init() {}
    }

    public let queueLimit: Int

    private let providers: [PushPlatform: any PushProvider]
    private let store: any PushRegistrationStore
    private let logger: Logger
    private let clock: LoopClock
    private let jitter: @Sendable () -> Double
    /// Pushes queued or in flight, per platform and per lane: one failing provider never fills the
    /// other's queue, and message pushes never take the room call pushes need (a flood of messages
    /// cannot make a call's wake-up wait or fail; the HTTP/2 client starts call requests first too).
    private var pending: [Lane: Int] = [:]

    private struct Lane: Hashable {
        let platform: PushPlatform
        let call: Bool
    }
    public private(set) var counters: [PushPlatform: Counters] = Dictionary(uniqueKeysWithValues: PushPlatform.allCases.map { ($0, Counters()) })
    /// Told of every provider attempt: its platform, how it ended and how long it took (metrics).
    public var onAttempt: (@LoopActor (PushPlatform, ProviderOutcome, Double) -> Void)?
    /// Told of every push's ending: its platform, the ending, and the seconds from its queueing to
    /// its final answer, retries included (metrics).
    public var onEnding: (@LoopActor (PushPlatform, PushEnding, Double) -> Void)?
    private var recentEndings = RecentEndings(capacity: 50_000)
    /// Set by ``drain(within:)``: nothing new is queued.
    public private(set) var isStopping = false
    private var drained: [CheckedContinuation<Void, Never>] = []

    /// `providers`: at most one per platform (a platform without one drops its pushes, counted as
    /// failed). `jitter` gives the backoff's random factor in 0.5…1.0.
    public init(providers: [any PushProvider], store: any PushRegistrationStore, logger: Logger, queueLimit: Int = 10_000,
                clock: LoopClock = .system, jitter: @escaping @Sendable () -> Double = { Double.random(in: 0.5...1.0) }) {
        var table: [PushPlatform: any PushProvider] = [:]
        for provider in providers {
            precondition(table[provider.platform] == nil, "two providers for \(provider.platform)")
            table[provider.platform] = provider
        }
        self.providers = table
        self.store = store
        self.logger = logger
        self.queueLimit = queueLimit
        self.clock = clock
        self.jitter = jitter
    }

    /// Connections the platform's provider opened and retired so far; nil when it is not configured.
    public func connections(_ platform: PushPlatform) -> (opened: Int, retired: Int)? { providers[platform]?.connections }

    /// Requests at the platform's provider and waiting for a stream; nil when it is not configured.
    public func requests(_ platform: PushPlatform) -> (inFlight: Int, waiting: Int)? { providers[platform]?.requests }

    /// Pushes queued or in flight, all platforms together.
    public var pendingCount: Int { pending.values.reduce(0, +) }

    /// Pushes queued or in flight for `platform` in the calls' lane or the messages'.
    public func pending(_ platform: PushPlatform, call: Bool) -> Int { pending[Lane(platform: platform, call: call), default: 0] }

    /// Whether another push for `platform` can be queued now, in the calls' lane or the messages'
    /// (else a publish is answered `wait`, a call hook 503).
    public func hasRoom(for platform: PushPlatform, call: Bool = false) -> Bool {
        !isStopping && pending[Lane(platform: platform, call: call), default: 0] < queueLimit
    }

    /// Queues `kind` for `target`; returns at once. `deadline` in seconds from now.
    public func deliver(_ kind: PushKind, to target: PushTarget, deadline: Double) {
        _ = start(kind, to: target, deadline: deadline)
    }

    /// Sends `kind` to `target` as ``deliver(_:to:deadline:)`` does, and returns how it ended (the
    /// operator's test push).
    public func send(_ kind: PushKind, to target: PushTarget, deadline: Double) async -> PushEnding {
        await start(kind, to: target, deadline: deadline).value
    }

    /// The last ending of a push to `deviceUUID` seen by this instance since it started.
    public func lastEnding(device deviceUUID: String) -> PushEnding? { recentEndings.last(device: deviceUUID) }

    private func start(_ kind: PushKind, to target: PushTarget, deadline: Double) -> Task<PushEnding, Never> {
        let platform = target.platform
        let queued = clock.uptime()
        guard let provider = providers[platform] else {
            let ending = PushEnding(result: .noProvider, reason: nil, messageID: nil, attempts: 0, kind: kind.logName,
                                    endedAt: clock.epochSeconds())
            ended(ending, target: target, pushID: "-", queued: queued)
            return spawnOnLoop { ending }
        }
        let lane = Lane(platform: platform, call: kind.isCall)
        pending[lane, default: 0] += 1
        let pushID = UUIDString.random()
        return spawnOnLoop { [self] in
            defer { finished(lane) }
            let attempts = await RetryLoop.run(deadline: deadline, clock: clock, jitter: jitter,
                                               onRetry: { self.counters[platform]?.retried += 1 }) { timeout in
                let started = clock.uptime()
                let outcome = await provider.send(kind, to: target, pushID: pushID, timeout: timeout)
                onAttempt?(platform, outcome, clock.uptime() - started)
                return outcome
            }
            if case .tokenDead(let since, _) = attempts.outcome { await store.markDead(target, since: since) }
            let ending = PushEnding(attempts.outcome, attempts: attempts.retries + 1, kind: kind, endedAt: clock.epochSeconds())
            ended(ending, target: target, pushID: pushID, queued: queued)
            return ending
        }
    }

    /// Counts, logs and remembers a push's ending: one line per push, at `info` when it reached the
    /// provider or its token was dead, `warning` or `error` when it was lost.
    private func ended(_ ending: PushEnding, target: PushTarget, pushID: String, queued: Double) {
        let platform = target.platform
        switch ending.result {
        case .delivered: counters[platform]?.sent += 1
        case .tokenDead: counters[platform]?.dead += 1
        case .configuration, .rejected, .expired, .noProvider: counters[platform]?.failed += 1
        }
        recentEndings.record(ending, device: target.deviceUUID)
        onEnding?(platform, ending, clock.uptime() - queued)
        // Built only when the line's level is on (swift-log's metadata argument is an autoclosure):
        // at LOG_LEVEL=warning a delivered push costs no strings.
        func metadata() -> Logger.Metadata {
            ["outcome": "\(ending.result.rawValue)", "device": "\(target.deviceUUID)", "platform": "\(platform.rawValue)",
             "app_id": "\(target.appID)", "kind": "\(ending.kind)", "push_id": "\(pushID)",
             "message_id": "\(ending.messageID ?? "-")", "reason": "\(ending.reason ?? "-")", "attempts": "\(ending.attempts)",
             "token": "\(Self.tokenPart(target.token))"]
        }
        switch ending.result {
        case .delivered: logger.info("push delivered", metadata: metadata())
        case .tokenDead: logger.info("push refused: device token dead; registration cleared", metadata: metadata())
        case .configuration: logger.error("push refused: provider credentials or configuration", metadata: metadata())
        case .rejected: logger.warning("push refused by the provider", metadata: metadata())
        case .expired: logger.warning("push not delivered before its deadline", metadata: metadata())
        case .noProvider: logger.warning("no provider configured for this device; push dropped", metadata: metadata())
        }
    }

    /// A token's first 8 characters: enough to tell two apart in a log, not enough to push to one.
    public nonisolated static func tokenPart(_ token: String) -> String { token.count > 8 ? String(token.prefix(8)) + "…" : "…" }

    // MARK: Service

    public var serviceName: String { "push delivery" }
    public func start() {}
    public var isReady: Bool { !isStopping }
    public func stop() {}

    /// For a graceful stop (docs/xmpp.md, "A stop"): queues nothing new, and returns once every
    /// push already queued has ended (delivered, or given up at its own deadline) or after `seconds`.
    /// The providers close their connections after this, when they are stopped.
    public func drain(within seconds: Double) async {
        isStopping = true
        if pendingCount > 0 {
            let deadline = LoopTimer { [weak self] in LoopActor.assumeIsolated { self?.releaseDrainWaiters() } }
            deadline.schedule(after: seconds)
            await withCheckedContinuation { drained.append($0) }
            deadline.disarm()
            if pendingCount > 0 {
                logger.warning("stopping with pushes still in flight", metadata: ["pending": "\(pendingCount)"])
            }
        }
    }

    private func finished(_ lane: Lane) {
        pending[lane, default: 1] -= 1
        if pendingCount == 0 { releaseDrainWaiters() }
    }

    private func releaseDrainWaiters() {
        let waiters = drained
        drained = []
        waiters.forEach { $0.resume() }
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
