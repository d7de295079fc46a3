import Dispatch
import Foundation
@testable import Loop
import XCTest

/// The loop's epoll set (LoopPoller) behind WatchedDescriptor, with pipes and socket pairs.
final class WatchedDescriptorTests: XCTestCase {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [String: Int] = [:]
        func hit(_ name: String) { lock.withLock { counts[name, default: 0] += 1 } }
        func count(_ name: String) -> Int { lock.withLock { counts[name, default: 0] } }
    }

    /// Lets the loop run for `seconds` (events are delivered on the loop's queue): for checking that
    /// something does NOT happen.
    private func settle(_ seconds: Double = 0.1) { Thread.sleep(forTimeInterval: seconds) }

    private func pipePair() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        return (fds[0], fds[1])
    }

    private func drain(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        _ = read(fd, &buffer, buffer.count)
    }

    func testReadInterestCanBeTurnedOffAndOn() {
        let counter = Counter()
        let (r, w) = pipePair()
        let watched = onLoop { WatchedDescriptor(fd: r, onReadable: { counter.hit("read"); self.drain(r) }) }
        _ = write(w, "x", 1)
        eventually("the first read") { counter.count("read") == 1 }
        onLoop { watched.setReadInterest(false) }
        _ = write(w, "y", 1)
        settle()
        XCTAssertEqual(counter.count("read"), 1, "no calls while read interest is off")
        onLoop { watched.setReadInterest(true) }
        eventually("the byte written meanwhile, once interest is back") { counter.count("read") == 2 }
        let closed = expectation(description: "closed")
        onLoop { watched.close { close(r); closed.fulfill() } }
        wait(for: [closed], timeout: 2)
        close(w)
    }

    func testWriteInterestIsReportedOnlyWhileOn() {
        let counter = Counter()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let watched = onLoop {
            WatchedDescriptor(fd: fds[0], onReadable: { counter.hit("read") }, onWritable: { counter.hit("write") })
        }
        settle()
        XCTAssertEqual(counter.count("write"), 0, "write interest starts off")
        onLoop { watched.setWriteInterest(true) }
        eventually("a writable socket to be reported") { counter.count("write") > 0 }
        onLoop { watched.setWriteInterest(false) }
        let stopped = counter.count("write")
        settle(0.05)
        XCTAssertEqual(counter.count("write"), stopped, "and no longer once interest is off")
        XCTAssertEqual(counter.count("read"), 0)
        onLoop { watched.close { close(fds[0]) } }
        settle()
        close(fds[1])
    }

    func testNothingIsDeliveredAfterCloseEvenWhenTheFdNumberIsReused() {
        let counter = Counter()
        let first = pipePair()
        let old = onLoop { WatchedDescriptor(fd: first.read, onReadable: { counter.hit("old") }) }
        let closedOld = expectation(description: "closed")
        onLoop {
            _ = write(first.write, "x", 1)  // ready, but not yet delivered…
            old.close { close(first.read); closedOld.fulfill() }  // …when it is closed
        }
        wait(for: [closedOld], timeout: 2)
        let second = pipePair()
        XCTAssertEqual(second.read, first.read, "the kernel reuses the lowest free fd number")
        let new = onLoop { WatchedDescriptor(fd: second.read, onReadable: { counter.hit("new"); self.drain(second.read) }) }
        _ = write(second.write, "y", 1)
        eventually("the new descriptor's read") { counter.count("new") == 1 }
        XCTAssertEqual(counter.count("old"), 0, "the closed descriptor's handler never runs")
        onLoop { new.close { close(second.read) } }
        settle()
        close(first.write)
        close(second.write)
    }

    func testAHangUpWithoutInterestDoesNotSpin() {
        let counter = Counter()
        let (r, w) = pipePair()
        let watched = onLoop { WatchedDescriptor(fd: r, onReadable: { counter.hit("read") }) }
        onLoop { watched.setReadInterest(false) }
        close(w)  // the reading end now reports a hang-up forever
        settle(0.2)
        XCTAssertEqual(counter.count("read"), 0, "a descriptor nobody listens to is out of the epoll set")
        onLoop { watched.setReadInterest(true) }
        eventually("the hang-up, reported to a reader (who then closes)") { counter.count("read") > 0 }
        onLoop { watched.close { close(r) } }
        settle()
    }

    /// libpq closes a broken connection's socket itself, before its owner stops watching it.
    func testAnFdClosedUnderItsDescriptorIsSurvived() {
        let (r, w) = pipePair()
        let watched = onLoop { WatchedDescriptor(fd: r, onReadable: {}, onWritable: {}) }
        close(r)
        let closed = expectation(description: "closed")
        onLoop {
            watched.setWriteInterest(true)   // epoll refuses: the fd is gone; no crash
            watched.setReadInterest(false)
            watched.close { closed.fulfill() }
        }
        wait(for: [closed], timeout: 2)
        close(w)
    }
}
