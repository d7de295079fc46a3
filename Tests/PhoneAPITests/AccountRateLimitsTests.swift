import Loop
import PhoneAPI
import XCTest

/// Item 4 of issue 12: ten wrong passwords from one place must not lock a user out everywhere.
final class AccountRateLimitsTests: XCTestCase {
    @LoopActor
    private static func limits(perUser: Int = 3, perAddress: Int = 1000) -> AccountRateLimits {
        AccountRateLimits(loginPerUserPerMinute: perUser, loginPerAddressPerMinute: perAddress, registerPerAddressPerHour: 20,
                          passwordChangesPerAccountPerHour: 10, now: { 1_000 })
    }

    private func onLoop<T: Sendable>(_ body: @escaping @Sendable @LoopActor () -> T) -> T {
        EventLoop.queue.sync { LoopActor.assumeIsolated(body) }
    }

    func testAGuesserIsLimitedWithoutLockingTheUserOut() {
        let outcome = onLoop { () -> ([Int?], Int?, Int?) in
            let limits = Self.limits()
            let guesser = (0..<4).map { _ in limits.login(username: "alice", address: "203.0.113.9") }
            let sameNameOtherCase = limits.login(username: "ALICE@example.com", address: "203.0.113.9")
            let alice = limits.login(username: "alice", address: "198.51.100.7")
            return (guesser, sameNameOtherCase, alice)
        }
        XCTAssertEqual(outcome.0.prefix(3).map { $0 == nil }, [true, true, true])
        XCTAssertNotNil(outcome.0[3], "the fourth guess from that address waits")
        XCTAssertNotNil(outcome.1, "case and JID form count as the same name")
        XCTAssertNil(outcome.2, "alice from her own address is not locked out")
    }

    func testTheUsernameAloneHasAMuchHigherCeiling() {
        let outcome = onLoop { () -> (Int, Int?) in
            let limits = Self.limits(perUser: 3)
            var allowed = 0
            // Many addresses, each within its own (username, address) budget.
            for address in 0..<20 {
                for _ in 0..<3 where limits.login(username: "bob", address: "10.0.0.\(address)") == nil { allowed += 1 }
            }
            return (allowed, limits.login(username: "bob", address: "192.0.2.1"))
        }
        XCTAssertEqual(outcome.0, 3 * AccountRateLimits.usernameCeilingFactor, "ten times the per-address limit, from all addresses together")
        XCTAssertNotNil(outcome.1, "past the ceiling even a fresh address waits (a distributed guess)")
    }

    func testTheAddressLimitCountsEveryName() {
        let waits = onLoop { () -> [Int?] in
            let limits = Self.limits(perUser: 100, perAddress: 2)
            return ["a", "b", "c"].map { limits.login(username: $0, address: "203.0.113.9") }
        }
        XCTAssertEqual(waits.map { $0 == nil }, [true, true, false])
    }
}
