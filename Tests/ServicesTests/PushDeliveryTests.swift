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
            let apns = ScriptedProvider(.ios, [.retry(after: nil), .retry(after: 2), .delivered], clock: clock)
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
            let fcm = ScriptedProvider(.android, [.tokenDead(since: 1_700_000_000_000)], clock: clock)
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
            let apns = ScriptedProvider(.ios, [.delivered], clock: clock)
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
            let apns = ScriptedProvider(.ios, [.delivered], clock: clock)
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
        let apns = ScriptedProvider(.ios, [.delivered], clock: clock)
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
}
