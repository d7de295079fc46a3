import Foundation
import Loop
@testable import Services
import SwitchboardTesting
import XCTest

/// The retry loop of push delivery with a fake clock (``InstantClock``): sleeping advances it at once.
final class RetryLoopTests: XCTestCase {
    /// Still `.retry` at the end: out of retries or time.
    private static func gaveUp(_ ending: RetryLoop.Ending) -> Bool {
        if case .retry = ending.outcome { return true } else { return false }
    }

    /// Runs the loop with the provider answering `answers` in turn; also returns the timeouts each
    /// attempt was given.
    private func run(deadline: Double, _ answers: [ProviderOutcome], time: InstantClock = InstantClock(startingAt: 100),
                     attemptTakes: Double = 0) throws -> (RetryLoop.Ending, [Double], Int) {
        let done = expectation(description: "loop")
        let box = LockedBox<(RetryLoop.Ending, [Double], Int)?>(nil)
        spawnOnLoop {
            var timeouts: [Double] = []
            var retriesCounted = 0
            let ending = await RetryLoop.run(deadline: deadline, clock: time.clock, jitter: { 1.0 }, onRetry: { retriesCounted += 1 }) { timeout in
                timeouts.append(timeout)
                time.advance(min(attemptTakes, timeout))  // an attempt ends at its timeout
                return answers[min(timeouts.count - 1, answers.count - 1)]
            }
            box.value = (ending, timeouts, retriesCounted)
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
        return try XCTUnwrap(box.value)
    }

    func testTransientFailuresAreRetriedWithGrowingBackoffUntilDelivered() throws {
        let time = InstantClock(startingAt: 100)
        let (ending, timeouts, counted) = try run(deadline: 60, [.retry(after: nil), .retry(after: nil), .delivered(messageID: nil)], time: time)
        XCTAssertEqual(ending, .init(outcome: .delivered(messageID: nil), retries: 2))
        XCTAssertFalse(Self.gaveUp(ending))
        XCTAssertEqual(time.sleeps, [0.2, 0.4], "0.2 s, then 0.4 s (jitter 1.0 here)")
        XCTAssertEqual(timeouts, [10, 10, 10], "each attempt gets at most 10 s")
        XCTAssertEqual(counted, 2)
    }

    func testAtMostThreeRetries() throws {
        let time = InstantClock(startingAt: 100)
        let (ending, timeouts, _) = try run(deadline: 3600, [.retry(after: nil)], time: time)
        XCTAssertEqual(ending.retries, 3)
        XCTAssertTrue(Self.gaveUp(ending))
        XCTAssertEqual(timeouts.count, 4, "the first try and three retries")
        XCTAssertEqual(time.sleeps, [0.2, 0.4, 0.8])
    }

    func testRetryAfterIsHonouredButNeverPastTheDeadline() throws {
        let time = InstantClock(startingAt: 100)
        let (ending, _, _) = try run(deadline: 30, [.retry(after: 5), .delivered(messageID: nil)], time: time)
        XCTAssertEqual(ending, .init(outcome: .delivered(messageID: nil), retries: 1))
        XCTAssertEqual(time.sleeps, [5], "Retry-After longer than the backoff wins")

        let late = InstantClock(startingAt: 100)
        let (gaveUp, timeouts, counted) = try run(deadline: 30, [.retry(after: 60)], time: late)
        XCTAssertTrue(Self.gaveUp(gaveUp))
        XCTAssertEqual(timeouts.count, 1, "waiting 60 s would end past the 30 s deadline: no retry")
        XCTAssertEqual(late.sleeps, [])
        XCTAssertEqual(counted, 0)
    }

    func testACallPushStopsWhenTheRingWindowIsOver() throws {
        // Each attempt takes 4 s (a slow provider); the ring window is 10 s.
        let time = InstantClock(startingAt: 100)
        let (ending, timeouts, _) = try run(deadline: 10, [.retry(after: nil)], time: time, attemptTakes: 4)
        XCTAssertTrue(Self.gaveUp(ending))
        XCTAssertEqual(timeouts.count, 3)
        for (timeout, expected) in zip(timeouts, [10, 5.8, 1.4]) {
            XCTAssertEqual(timeout, expected, accuracy: 1e-9, "each attempt gets only what is left of the window")
        }
        XCTAssertLessThanOrEqual(time.seconds - 100, 10 + 1e-9, "nothing after the deadline")

        // With less than half a second left after the wait, no retry is started.
        let tight = InstantClock(startingAt: 100)
        let (short, shortTimeouts, _) = try run(deadline: 4.5, [.retry(after: nil)], time: tight, attemptTakes: 4)
        XCTAssertTrue(Self.gaveUp(short))
        XCTAssertEqual(shortTimeouts, [4.5])
    }

    func testDeadTokensAndRefusalsAreNotRetried() throws {
        for answer: ProviderOutcome in [.tokenDead(since: 1_700_000_000_000, reason: "Unregistered"), .rejected("BadDeviceToken"), .configuration("InvalidProviderToken")] {
            let time = InstantClock(startingAt: 100)
            let (ending, timeouts, _) = try run(deadline: 60, [answer], time: time)
            XCTAssertEqual(ending, .init(outcome: answer, retries: 0))
            XCTAssertEqual(timeouts.count, 1)
            XCTAssertEqual(time.sleeps, [])
        }
    }
}
