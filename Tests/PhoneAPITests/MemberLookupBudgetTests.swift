import Loop
import PhoneAPI
import XCTest

/// Member lists are an existence oracle (security review L10): every name looked up is counted.
final class MemberLookupBudgetTests: XCTestCase {
    final class Clock: @unchecked Sendable {
        var seconds = 1_000.0
    }

    func testNamesAreCountedPerAccountAndComeBackOverTheHour() {
        let clock = Clock()
        let outcome = EventLoop.queue.sync {
            LoopActor.assumeIsolated { () -> [Int?] in
                let budget = MemberLookupBudget(perHour: 100, now: { clock.seconds })
                var results = [budget.spend(60, by: "mallory@example.com"), budget.spend(40, by: "mallory@example.com"),
                               budget.spend(0, by: "mallory@example.com"), budget.spend(1, by: "mallory@example.com"),
                               budget.spend(100, by: "alice@example.com")]
                clock.seconds += 36  // one name's worth (3600 / 100 s)
                results.append(budget.spend(1, by: "mallory@example.com"))
                results.append(budget.spend(1, by: "mallory@example.com"))
                return results
            }
        }
        XCTAssertNil(outcome[0])
        XCTAssertNil(outcome[1], "the whole hour's budget may go at once")
        XCTAssertNil(outcome[2], "a list without names costs nothing")
        XCTAssertEqual(outcome[3], 36, "the next name waits for the budget to come back")
        XCTAssertNil(outcome[4], "another account has its own budget")
        XCTAssertNil(outcome[5])
        XCTAssertNotNil(outcome[6])
    }
}
