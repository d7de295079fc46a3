import Dispatch
import Foundation
@testable import Loop
import XCTest

/// LoopTimer on a timerfd in the loop's epoll set.
final class LoopTimerTests: XCTestCase {
    final class Fired: @unchecked Sendable {
        private let lock = NSLock()
        private var times: [Date] = []
        func record() { lock.withLock { times.append(Date()) } }
        var count: Int { lock.withLock { times.count } }
        var first: Date? { lock.withLock { times.first } }
    }

    /// A timer that records when it fires, and the time it was made.
    private func startedTimer() -> (Fired, LoopTimer, Date) {
        let fired = Fired()
        return (fired, onLoop { LoopTimer { fired.record() } }, Date())
    }

    func testFiresOnceAfterItsDelayAndCanBeScheduledAgain() {
        let (fired, timer, start) = startedTimer()
        onLoop { timer.schedule(after: 0.05) }
        eventually("the timer") { fired.count == 1 }
        XCTAssertGreaterThanOrEqual(fired.first!.timeIntervalSince(start), 0.045, "not before its delay")
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(fired.count, 1, "one-shot")
        onLoop { timer.schedule(after: 0) }
        eventually("a zero delay to fire too (it must not disarm)") { fired.count == 2 }
        onLoop { _ = timer }
    }

    func testRescheduleReplacesAndDisarmCancels() {
        let fired = Fired()
        let timer = onLoop { LoopTimer { fired.record() } }
        onLoop {
            timer.schedule(after: 0.02)
            timer.schedule(after: 0.2)  // replaces the earlier deadline
        }
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(fired.count, 0, "the first deadline was replaced")
        eventually("the second deadline") { fired.count == 1 }
        onLoop { timer.schedule(after: 0.03); timer.disarm() }
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(fired.count, 1, "disarmed")
    }

    func testMovingTheDeadlineEarlierFiresAtTheEarlierTime() {
        let (fired, timer, start) = startedTimer()
        onLoop {
            timer.schedule(after: 5)
            timer.schedule(after: 0.03)
        }
        eventually("the earlier deadline") { fired.count == 1 }
        XCTAssertLessThan(fired.first!.timeIntervalSince(start), 4, "did not wait for the first deadline")
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(fired.count, 1)
    }

    func testLaterDeadlinesDoNotTouchTheKernelTimerAndStillFireOnTime() {
        let (fired, timer, start) = startedTimer()
        let arms = onLoop { () -> Int in
            // Like a statement deadline renewed by each of a stream of statements.
            for step in 0..<100 { timer.schedule(after: 0.05 + Double(step) * 0.001) }
            return timer.kernelArms
        }
        XCTAssertEqual(arms, 1, "only the first schedule set the timerfd")
        eventually("the last deadline") { fired.count == 1 }
        XCTAssertGreaterThanOrEqual(fired.first!.timeIntervalSince(start), 0.145, "the last schedule wins, not the first")
        XCTAssertEqual(onLoop { timer.kernelArms }, 2, "one re-arm for the rest after the early expiry")
    }

    func testADisarmedTimerScheduledAgainFiresOnlyAtItsNewDeadline() {
        let (fired, timer, start) = startedTimer()
        onLoop {
            timer.schedule(after: 0.02)
            timer.disarm()
        }
        Thread.sleep(forTimeInterval: 0.08)
        XCTAssertEqual(fired.count, 0, "the lazily disarmed expiry is dropped")
        onLoop { timer.schedule(after: 0.05) }
        eventually("the new deadline") { fired.count == 1 }
        XCTAssertGreaterThanOrEqual(fired.first!.timeIntervalSince(start), 0.125)
    }

    func testAnExpiryHandledAfterARearmDoesNotFire() {
        let fired = Fired()
        let timer = onLoop { LoopTimer { fired.record() } }
        onLoop {
            timer.schedule(after: 0.001)
            Thread.sleep(forTimeInterval: 0.01)  // it expires while the loop is busy here…
            timer.schedule(after: 10)            // …and is re-armed before the loop sees the expiry
        }
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(fired.count, 0, "the stale expiry is dropped")
        onLoop { timer.disarm() }
    }

    func testATimerReleasedOffTheLoopWithItsExpiryPendingNeverFires() {
        final class Holder: @unchecked Sendable { var timer: LoopTimer? }
        let fired = Fired()
        for _ in 0..<50 {
            let holder = Holder()
            EventLoop.queue.sync {
                holder.timer = LoopTimer { fired.record() }
                holder.timer?.schedule(after: 0.0005)
                Thread.sleep(forTimeInterval: 0.002)  // it expires while the loop is busy here…
                let released = DispatchSemaphore(value: 0)
                DispatchQueue.global().async { holder.timer = nil; released.signal() }  // …and is freed off the loop
                released.wait()
            }
        }
        let drained = expectation(description: "loop turn")
        EventLoop.queue.async { drained.fulfill() }
        wait(for: [drained], timeout: 2)
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(fired.count, 0, "a timer nobody holds any more does not fire")
    }

    func testManyTimersCreatedAndDroppedLeaveNoDescriptorsBehind() {
        // Counts this process's timerfds only, and waits for them to go: other tests' sockets and
        // timers may still be closing on the loop meanwhile (an exact count of all fds was flaky).
        // The first two counts are taken on the loop, where every timerfd is closed, so no earlier
        // test's timer can close between them (counting `before` off the loop once was off by one).
        func timerfds() -> Int {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == "anon_inode:[timerfd]" }.count
        }
        let (before, during) = onLoop { () -> (Int, Int) in
            let before = timerfds()
            var timers = (0..<200).map { _ in LoopTimer {} }
            timers.forEach { $0.schedule(after: 60) }
            let count = timerfds()
            timers.removeAll()
            return (before, count)
        }
        XCTAssertGreaterThanOrEqual(during, before + 200, "each timer has its own timerfd")
        eventually("the 200 timerfds to be closed") { timerfds() <= before }
    }
}
