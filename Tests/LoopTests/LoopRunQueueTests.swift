import Dispatch
import Foundation
@testable import Loop
import XCTest

/// The loop's run queue and the poller's lingering turn (LoopRunQueue, LoopPoller.turn): nothing
/// queued is lost or reordered, whichever thread queues it and whatever the poller is doing.
final class LoopRunQueueTests: XCTestCase {
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [Int] = []
        func append(_ value: Int) { lock.withLock { entries.append(value) } }
        var values: [Int] { lock.withLock { entries } }
    }

    func testWorkQueuedOnTheLoopRunsInOrderAndWorkItQueuesRunsAfter() {
        let log = Log()
        EventLoop.queue.sync {
            for value in 0..<100 {
                LoopRunQueue.shared.submit {
                    log.append(value)
                    if value == 0 { LoopRunQueue.shared.submit { log.append(100) } }
                }
            }
        }
        eventually("all 101 entries") { log.values.count == 101 }
        XCTAssertEqual(log.values, Array(0...100))
    }

    func testWorkFromOtherThreadsRunsWhetherThePollerIsIdleBusyOrLingering() {
        // A pipe whose every byte starts a poller turn (which then lingers); work is queued from other
        // threads right after each byte, so it lands before, during and after those turns.
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let (r, w) = (fds[0], fds[1])
        let bytes = Log()
        let watched = EventLoop.queue.sync {
            WatchedDescriptor(fd: r, onReadable: {
                var byte: UInt8 = 0
                if read(r, &byte, 1) == 1 { bytes.append(Int(byte)) }
            })
        }
        let log = Log()
        let rounds = 300
        DispatchQueue.concurrentPerform(iterations: rounds) { round in
            var byte = UInt8(round % 256)
            _ = write(w, &byte, 1)
            LoopRunQueue.shared.submit { log.append(round) }
            if round % 3 == 0 { Thread.sleep(forTimeInterval: 0.0005) }
        }
        eventually("every queued closure") { log.values.count == rounds }
        XCTAssertEqual(Set(log.values), Set(0..<rounds), "each closure ran exactly once")
        eventually("every byte") { bytes.values.count == rounds }
        let closed = expectation(description: "closed")
        EventLoop.queue.sync { watched.close { close(r); closed.fulfill() } }
        wait(for: [closed], timeout: 2)
        close(w)
    }

    func testATaskThatKeepsYieldingDoesNotStarveTheSockets() {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let (r, w) = (fds[0], fds[1])
        final class Spin: @unchecked Sendable { var stoppedByHandler = false, endedByHandler = false }
        let spin = Spin()
        let watched = EventLoop.queue.sync {
            WatchedDescriptor(fd: r, onReadable: {
                var byte: UInt8 = 0
                if read(r, &byte, 1) == 1 { spin.stoppedByHandler = true }
            })
        }
        let finished = expectation(description: "the spinning task ended")
        spawnOnLoop {
            let deadline = ContinuousClock.now + .seconds(5)
            while !spin.stoppedByHandler, ContinuousClock.now < deadline { await Task.yield() }
            spin.endedByHandler = spin.stoppedByHandler  // false: it ran out its 5 s, the handler never got in
            finished.fulfill()
        }
        Thread.sleep(forTimeInterval: 0.05)
        var byte: UInt8 = 1
        _ = write(w, &byte, 1)
        wait(for: [finished], timeout: 10)
        XCTAssertTrue(EventLoop.queue.sync { spin.endedByHandler }, "the pipe's handler ran while the task kept yielding")
        let closed = expectation(description: "closed")
        EventLoop.queue.sync { watched.close { close(r); close(w); closed.fulfill() } }
        wait(for: [closed], timeout: 2)
    }

    func testATaskResumedFromADescriptorHandlerCompletes() async {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let (r, w) = (fds[0], fds[1])
        final class Box: @unchecked Sendable { var continuation: CheckedContinuation<UInt8, Never>?; var watched: WatchedDescriptor? }
        let box = Box()
        let received: UInt8 = await withCheckedContinuation { continuation in
            EventLoop.queue.async {
                box.continuation = continuation
                box.watched = WatchedDescriptor(fd: r, onReadable: {
                    var byte: UInt8 = 0
                    guard read(r, &byte, 1) == 1, let continuation = box.continuation else { return }
                    box.continuation = nil
                    continuation.resume(returning: byte)
                })
                var byte: UInt8 = 42
                _ = write(w, &byte, 1)
            }
        }
        XCTAssertEqual(received, 42)
        let task = spawnOnLoop {
            box.watched?.close { close(r); close(w) }
        }
        await task.value
    }

    func testBlocksOnTheLoopQueueAreNotStarvedByADescriptorThatIsAlwaysReady() {
        // A socket pair whose handler reads one byte and writes it back to the other end: the poller
        // always has an event, so only its turn budget lets Dispatch run anything else on the queue.
        var pair: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair), 0)
        let (a, b) = (pair[0], pair[1])
        final class Flag: @unchecked Sendable { var stop = false; var bounces = 0 }
        let flag = Flag()
        let watched = EventLoop.queue.sync {
            WatchedDescriptor(fd: a, onReadable: {
                var byte: UInt8 = 0
                guard read(a, &byte, 1) == 1 else { return }
                flag.bounces += 1
                if !flag.stop { _ = write(b, &byte, 1) }
            })
        }
        var byte: UInt8 = 1
        _ = write(b, &byte, 1)
        let ran = expectation(description: "a plain Dispatch block ran meanwhile")
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) {
            EventLoop.queue.async { ran.fulfill() }
        }
        wait(for: [ran], timeout: 5)
        let bounces = EventLoop.queue.sync { () -> Int in flag.stop = true; return flag.bounces }
        XCTAssertGreaterThan(bounces, 10, "the descriptor kept the poller busy while the block waited")
        let closed = expectation(description: "closed")
        EventLoop.queue.sync { watched.close { close(a); close(b); closed.fulfill() } }
        wait(for: [closed], timeout: 2)
    }
}
