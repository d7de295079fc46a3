import Foundation
import Loop
import Services
import SwitchboardTesting
import XCTest

/// The PBKDF2 queue is fair between accounts and bounded (docs/api.md "password").
final class PasswordCheckQueueTests: XCTestCase {
    @LoopActor
    private static func waitUntil(_ condition: @LoopActor () -> Bool) async {
        for _ in 0..<2000 where !condition() { try? await Task.sleep(for: .milliseconds(1)) }
    }

    /// One account's flood of checks does not hold up another account's one check: it runs right
    /// after the check already running, not after the whole flood.
    func testAnotherAccountsCheckIsNotQueuedBehindAFlood() throws {
        let done = expectation(description: "all checks")
        let order = LockedBox<[String]>([])
        let gate = DispatchSemaphore(value: 0)
        spawnOnLoop {
            let queue = PasswordCheckQueue(workers: 1, maximumWaitingPerKey: 16, maximumWaiting: 100)
            let started = LockedBox(false)
            let first = Task { await queue.run(key: "mallory") { started.value = true; gate.wait(); order.value.append("m0"); return true } }
            await Self.waitUntil { started.value }  // the first one is running (and blocked)
            var flood: [Task<Bool?, Never>] = []
            for i in 1...16 { flood.append(Task { await queue.run(key: "mallory") { order.value.append("m\(i)"); return true } }) }
            await Self.waitUntil { queue.waitingCount == 16 }
            let refused = await queue.run(key: "mallory") { true }
            XCTAssertNil(refused, "a 17th waiting check of one account is refused at once")
            let alice = Task { await queue.run(key: "alice") { order.value.append("alice"); return true } }
            await Self.waitUntil { queue.waitingCount == 17 }
            gate.signal()
            let aliceRan = await alice.value, firstRan = await first.value
            XCTAssertEqual(aliceRan, true)
            XCTAssertEqual(firstRan, true)
            for task in flood { let ran = await task.value; XCTAssertEqual(ran, true) }
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(order.value.prefix(3), ["m0", "m1", "alice"], "alice waited for one of mallory's queued checks, not sixteen")
        XCTAssertEqual(order.value.count, 18)
    }

    func testTheWholeQueueIsBounded() throws {
        let done = expectation(description: "checks")
        let gate = DispatchSemaphore(value: 0)
        spawnOnLoop {
            let queue = PasswordCheckQueue(workers: 1, maximumWaitingPerKey: 16, maximumWaiting: 5)
            let started = LockedBox(false)
            let first = Task { await queue.run(key: "k0") { started.value = true; gate.wait(); return 0 } }
            await Self.waitUntil { started.value }
            var waiting: [Task<Int?, Never>] = []
            for i in 1...5 { waiting.append(Task { await queue.run(key: "k\(i)") { i } }) }
            await Self.waitUntil { queue.waitingCount == 5 }
            let refused = await queue.run(key: "k6") { 6 }
            XCTAssertNil(refused, "the sixth waiting check is refused")
            gate.signal()
            let firstValue = await first.value
            XCTAssertEqual(firstValue, 0)
            for (i, task) in waiting.enumerated() { let value = await task.value; XCTAssertEqual(value, i + 1) }
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
    }
}
