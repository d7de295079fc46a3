import Logging
import Loop
@testable import Services
import SwitchboardTesting
import XCTest

/// Delivery with a scripted provider on a fake clock: retries, dead tokens, deadlines, the queue
/// bound and the drain of a stop, in no real time.
final class PushDeliveryTests: XCTestCase {
    /// Runs `body` on the loop and waits for it.
    private func onLoop(_ body: @escaping @Sendable @LoopActor () async throws -> Void) throws {
        let done = expectation(description: "on the loop")
        let failure = LockedBox<(any Error)?>(nil)
        spawnOnLoop {
            do { try await body() } catch { failure.value = error }
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        if let error = failure.value { throw error }
    }

    @LoopActor
    private static func delivery(_ providers: [any PushProvider], store: MemoryPushStore, clock: InstantClock,
                                 queueLimit: Int = 10) -> PushDelivery {
        PushDelivery(providers: providers, store: store, logger: Logger(label: "test"), queueLimit: queueLimit,
                     clock: clock.clock, jitter: { 1.0 })
    }

    /// Waits (on the loop) until `condition` holds; the pushes run as tasks of their own.
    @LoopActor
    private static func settle(_ condition: @LoopActor () -> Bool) async throws {
        for _ in 0..<1000 where !condition() { await Task.yield() }
        guard condition() else { throw XCTSkip("never settled") }
    }

    func testATransientFailureIsRetriedWithTheSamePushIDUntilDelivered() throws {
        try onLoop {
            let clock = InstantClock()
            let apns = ScriptedProvider(.ios, [.retry(after: nil), .retry(after: 2), .delivered(messageID: nil)], clock: clock)
            let delivery = Self.delivery([apns], store: MemoryPushStore(), clock: clock)
            delivery.deliver(.message(sender: nil, conversation: nil), to: .sample(), deadline: 60)
            try await Self.settle { delivery.counters[.ios]?.sent == 1 }
            XCTAssertEqual(apns.attempts.count, 3)
            XCTAssertEqual(Set(apns.attempts.map(\.pushID)).count, 1, "one apns-id for every attempt of one push")
            XCTAssertEqual(clock.sleeps, [0.2, 2], "backoff, then Retry-After when it is longer")
            XCTAssertEqual(delivery.counters[.ios], { var c = PushDelivery.Counters(); c.sent = 1; c.retried = 2; return c }())
            XCTAssertEqual(delivery.pendingCount, 0)
        }
    }

    func testADeadTokenIsMarkedOnceAndNeverRetried() throws {
        try onLoop {
            let clock = InstantClock()
            let fcm = ScriptedProvider(.android, [.tokenDead(since: 1_700_000_000_000, reason: "UNREGISTERED")], clock: clock)
            let store = MemoryPushStore()
            let delivery = Self.delivery([fcm], store: store, clock: clock)
            delivery.deliver(.message(sender: "bob@example.com", conversation: "bob@example.com"), to: .sample(.android), deadline: 60)
            try await Self.settle { delivery.counters[.android]?.dead == 1 }
            XCTAssertEqual(fcm.attempts.count, 1)
            XCTAssertEqual(store.markedDead.map(\.target), [.sample(.android)])
            XCTAssertEqual(store.markedDead.first?.since, 1_700_000_000_000)
            XCTAssertEqual(clock.sleeps, [])
        }
    }

    func testNothingIsTriedPastTheDeadline() throws {
        try onLoop {
            let clock = InstantClock()
            let apns = ScriptedProvider(.ios, [.retry(after: nil)], clock: clock)
            apns.attemptSeconds = 4  // each attempt times out after 4 s of the clock
            let delivery = Self.delivery([apns], store: MemoryPushStore(), clock: clock)
            let started = clock.seconds
            delivery.deliver(.call(callID: "c1", caller: "alice", callerDisplay: nil, callee: "bob", deadline: 2_000_000_000), to: .sample(), deadline: 10)
            try await Self.settle { delivery.counters[.ios]?.failed == 1 }
            let timeouts = apns.attempts.map(\.timeout)
            XCTAssertEqual(timeouts.count, 3)
            for (timeout, expected) in zip(timeouts, [10, 5.8, 1.4]) {
                XCTAssertEqual(timeout, expected, accuracy: 1e-6, "each attempt gets the time left, never more: \(timeouts)")
            }
            XCTAssertLessThanOrEqual(clock.seconds - started, 10, "the last attempt ended by the deadline")
            XCTAssertEqual(delivery.counters[.ios]?.retried, 2)
        }
    }

    func testConfigurationAndRejectionAreNotRetriedAndKeepTheToken() throws {
        try onLoop {
            let clock = InstantClock()
            let apns = ScriptedProvider(.ios, [.configuration("BadTopic")], clock: clock)
            let fcm = ScriptedProvider(.android, [.rejected("INVALID_ARGUMENT")], clock: clock)
            let store = MemoryPushStore()
            let delivery = Self.delivery([apns, fcm], store: store, clock: clock)
            delivery.deliver(.message(sender: nil, conversation: nil), to: .sample(.ios), deadline: 60)
            delivery.deliver(.message(sender: nil, conversation: nil), to: .sample(.android), deadline: 60)
            try await Self.settle { delivery.pendingCount == 0 }
            XCTAssertEqual([apns.attempts.count, fcm.attempts.count], [1, 1])
            XCTAssertEqual(delivery.counters[.ios]?.failed, 1)
            XCTAssertEqual(delivery.counters[.android]?.failed, 1)
            XCTAssertTrue(store.markedDead.isEmpty)
        }
    }

    func testEachPlatformHasItsOwnQueueAndAPlatformWithoutProviderDrops() throws {
        try onLoop {
            let clock = InstantClock()
            let apns = ScriptedProvider(.ios, [.delivered(messageID: nil)], clock: clock)
            apns.holding = true
            let delivery = Self.delivery([apns], store: MemoryPushStore(), clock: clock, queueLimit: 2)
            delivery.deliver(.message(sender: nil, conversation: nil), to: .sample(.ios), deadline: 60)
            delivery.deliver(.message(sender: nil, conversation: nil), to: .sample(.ios), deadline: 60)
            XCTAssertFalse(delivery.hasRoom(for: .ios), "two in flight fill a queue of two")
            XCTAssertTrue(delivery.hasRoom(for: .android), "the other platform's queue is its own")
            delivery.deliver(.message(sender: nil, conversation: nil), to: .sample(.android), deadline: 60)
            XCTAssertEqual(delivery.counters[.android]?.failed, 1, "no FCM configured: dropped and counted")
            try await Self.settle { apns.heldCount == 2 }
            apns.release()
            try await Self.settle { delivery.counters[.ios]?.sent == 2 }
            XCTAssertTrue(delivery.hasRoom(for: .ios))
        }
    }

    /// Message pushes cannot take the room call pushes need: a full message lane leaves the call
    /// lane open, and the call goes out while the messages are still held.
    func testCallsHaveTheirOwnLaneAheadOfMessages() throws {
        try onLoop {
            let clock = InstantClock()
            let apns = ScriptedProvider(.ios, [.delivered(messageID: nil)], clock: clock)
            apns.holding = true
            let delivery = Self.delivery([apns], store: MemoryPushStore(), clock: clock, queueLimit: 2)
            for _ in 0..<2 { delivery.deliver(.message(sender: nil, conversation: nil), to: .sample(), deadline: 60) }
            XCTAssertFalse(delivery.hasRoom(for: .ios), "the message lane is full")
            XCTAssertTrue(delivery.hasRoom(for: .ios, call: true), "the call lane is not")
            try await Self.settle { apns.heldCount == 2 }
            apns.holding = false
            delivery.deliver(.call(callID: "c1", caller: "alice", callerDisplay: nil, callee: "bob", deadline: 2_000_000_000), to: .sample(), deadline: 30)
            try await Self.settle { delivery.counters[.ios]?.sent == 1 }
            XCTAssertEqual(apns.attempts.last?.kind, .call(callID: "c1", caller: "alice", callerDisplay: nil, callee: "bob", deadline: 2_000_000_000))
            XCTAssertEqual(apns.heldCount, 2, "delivered while both messages were still in flight")
            apns.release()
            try await Self.settle { delivery.counters[.ios]?.sent == 3 }
        }
    }

    /// A delivery with one accepted message push whose attempt is held in flight.
    @LoopActor
    private static func oneHeldPush() async throws -> (PushDelivery, ScriptedProvider) {
        let clock = InstantClock()
        let apns = ScriptedProvider(.ios, [.delivered(messageID: nil)], clock: clock)
        apns.holding = true
        let delivery = delivery([apns], store: MemoryPushStore(), clock: clock)
        delivery.deliver(.message(sender: nil, conversation: nil), to: .sample(), deadline: 60)
        try await settle { apns.heldCount == 1 }
        return (delivery, apns)
    }

    func testDrainWaitsForPushesInFlightThenQueuesNothing() throws {
        try onLoop {
            let (delivery, apns) = try await Self.oneHeldPush()
            let drained = LockedBox(false)
            spawnOnLoop {
                await delivery.drain(within: 30)
                drained.value = true
            }
            try await Self.settle { delivery.isStopping }
            XCTAssertFalse(delivery.hasRoom(for: .ios), "a stopping delivery takes nothing new")
            for _ in 0..<50 { await Task.yield() }
            XCTAssertFalse(drained.value, "the accepted push is still in flight")
            apns.release()
            try await Self.settle { drained.value }
            XCTAssertEqual(delivery.counters[.ios]?.sent, 1, "accepted before the stop, delivered during it")
        }
    }

    func testDrainGivesUpAtItsDeadline() throws {
        try onLoop {
            let (delivery, apns) = try await Self.oneHeldPush()
            let started = ContinuousClock.now
            await delivery.drain(within: 0.2)
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(150))
            XCTAssertEqual(delivery.pendingCount, 1, "still in flight: the stop goes on without it")
            apns.release()
        }
    }

    func testEveryEndingIsOneLogLineWithWhatAnOperatorNeedsAndTheTokenOnlyInPart() throws {
        try onLoop {
            let clock = InstantClock(), lines = CapturedLines()
            let apns = ScriptedProvider(.ios, [.retry(after: nil), .delivered(messageID: "8a2b0c1e-0000-4000-8000-000000000001"),
                                               .tokenDead(since: nil, reason: "Unregistered"), .rejected("PayloadTooLarge")], clock: clock)
            let delivery = PushDelivery(providers: [apns], store: MemoryPushStore(), logger: Logger(label: "test") { _ in lines.handler() },
                                        clock: clock.clock, jitter: { 1.0 })
            let first = PushTarget.sample(device: "aaaaaaaa-0000-4000-8000-000000000001")
            let ending = await delivery.send(.message(sender: nil, conversation: nil), to: first, deadline: 60)
            XCTAssertEqual(ending.result, .delivered)
            XCTAssertEqual(ending.attempts, 2)
            XCTAssertEqual(ending.messageID, "8a2b0c1e-0000-4000-8000-000000000001")
            XCTAssertEqual(delivery.lastEnding(device: first.deviceUUID), ending)
            let second = PushTarget.sample(device: "aaaaaaaa-0000-4000-8000-000000000002")
            let dead = await delivery.send(.call(callID: "c1", caller: "a@example.com", callerDisplay: nil, callee: "b@example.com", deadline: 0),
                                           to: second, deadline: 30)
            XCTAssertEqual([dead.result.rawValue, dead.reason, dead.kind], ["token_dead", "Unregistered", "call"])
            _ = await delivery.send(.message(sender: nil, conversation: nil), to: first, deadline: 60)
            XCTAssertEqual(delivery.lastEnding(device: first.deviceUUID)?.result, .rejected, "the last ending replaces the one before")
            XCTAssertNil(delivery.lastEnding(device: "unknown"))

            let endings = lines.all.filter { $0.metadata["outcome"] != nil }
            XCTAssertEqual(endings.map(\.metadata["outcome"]), ["delivered", "token_dead", "rejected"], "one line per push, retries not")
            XCTAssertEqual(endings.map(\.level), [.info, .info, .warning])
            let delivered = endings[0].metadata
            XCTAssertEqual(delivered["device"], first.deviceUUID)
            XCTAssertEqual(delivered["platform"], "ios")
            XCTAssertEqual(delivered["app_id"], "com.example.chat")
            XCTAssertEqual(delivered["message_id"], "8a2b0c1e-0000-4000-8000-000000000001")
            XCTAssertEqual(delivered["attempts"], "2")
            XCTAssertEqual(delivered["token"], "abababab…")
            XCTAssertEqual(endings[2].metadata["reason"], "PayloadTooLarge")
            XCTAssertFalse(lines.all.contains { $0.metadata.values.contains { $0.contains(first.token) } }, "never the whole token")
        }
    }

    func testAPushForAPlatformWithoutProviderEndsAtOnce() throws {
        try onLoop {
            let clock = InstantClock()
            let delivery = Self.delivery([ScriptedProvider(.ios, [], clock: clock)], store: MemoryPushStore(), clock: clock)
            let ending = await delivery.send(.message(sender: nil, conversation: nil), to: .sample(.android), deadline: 60)
            XCTAssertEqual([ending.result.rawValue, "\(ending.attempts)"], ["no_provider", "0"])
            XCTAssertEqual(delivery.counters[.android]?.failed, 1)
        }
    }

    func testRecentEndingsStayBoundedAndKeepTheNewest() {
        var endings = RecentEndings(capacity: 100)
        let ending = PushEnding(result: .delivered, reason: nil, messageID: nil, attempts: 1, kind: "message", endedAt: 0)
        for device in 0..<1000 { endings.record(ending, device: "\(device)") }
        XCTAssertNotNil(endings.last(device: "999"))
        XCTAssertNotNil(endings.last(device: "900"), "the last `capacity` devices are always found")
        XCTAssertNil(endings.last(device: "0"))
    }
}
