import Loop
import Postgres
@testable import Services
import SwitchboardTesting

/// A provider that answers from a script instead of a network (as Sygnal's tests replace
/// `_send_notification`): each attempt takes the next outcome, the last one repeats. With
/// ``holding`` on, attempts wait until ``release()``, so a test can stop with pushes in flight.
@LoopActor
final class ScriptedProvider: PushProvider {
    struct Attempt: Equatable {
        let kind: PushKind
        let target: PushTarget
        let pushID: String
        let timeout: Double
    }

    let platform: PushPlatform
    var script: [ProviderOutcome]
    /// Seconds of the clock each attempt takes.
    var attemptSeconds = 0.0
    var holding = false
    private let clock: InstantClock?
    private(set) var attempts: [Attempt] = []
    private(set) var started = false
    private(set) var stopped = false
    private var held: [CheckedContinuation<Void, Never>] = []

    init(_ platform: PushPlatform, _ script: [ProviderOutcome], clock: InstantClock? = nil) {
        self.platform = platform
        self.script = script
        self.clock = clock
    }

    func send(_ kind: PushKind, to target: PushTarget, pushID: String, timeout: Double) async -> ProviderOutcome {
        attempts.append(Attempt(kind: kind, target: target, pushID: pushID, timeout: timeout))
        if holding { await withCheckedContinuation { held.append($0) } }
        clock?.advance(min(attemptSeconds, timeout))
        let index = min(attempts.count - 1, script.count - 1)
        return script[index]
    }

    /// Lets every held attempt answer.
    func release() {
        holding = false
        let waiting = held
        held = []
        waiting.forEach { $0.resume() }
    }

    var heldCount: Int { held.count }
    var connections: (opened: Int, retired: Int) { (1, 0) }
    var requests: (inFlight: Int, waiting: Int) { (0, 0) }
    var serviceName: String { "scripted \(platform.rawValue) provider" }
    func start() { started = true }
    var isReady: Bool { started && !stopped }
    func stop() { stopped = true }
}

/// Registrations in memory, for the app server and delivery without PostgreSQL.
@LoopActor
final class MemoryPushStore: PushRegistrationStore {
    var registrations: [String: NodeRegistration] = [:]
    /// When set, every lookup fails with it (the database is down).
    var failure: DatabaseError?
    /// When on, lookups wait until ``release()`` (a slow database).
    var holding = false
    private var held: [CheckedContinuation<Void, Never>] = []
    private(set) var lookups = 0
    private(set) var markedDead: [(target: PushTarget, since: Int64?)] = []

    func release() {
        holding = false
        let waiting = held
        held = []
        waiting.forEach { $0.resume() }
    }

    func registration(forNode node: String) async throws(DatabaseError) -> NodeRegistration? {
        lookups += 1
        if holding { await withCheckedContinuation { held.append($0) } }
        if let failure { throw failure }
        return registrations[node]
    }

    func markDead(_ target: PushTarget, since: Int64?) async {
        markedDead.append((target, since))
    }
}

extension PushTarget {
    static func sample(_ platform: PushPlatform = .ios, device: String = "11111111-2222-3333-4444-555555555555") -> PushTarget {
        PushTarget(deviceUUID: device, platform: platform, token: platform == .ios ? String(repeating: "ab", count: 32) : "fcm-token-0123456789",
                   tokenKind: .push, appID: "com.example.chat", sandbox: false)
    }
}
