import Loop
import Services
import XCTest

/// The budgets of the call hook (calls per caller per minute) and of group member lists (names
/// looked up per account per hour).
final class RateBudgetTests: XCTestCase {
    final class Clock: @unchecked Sendable {
        var seconds = 1_000.0
    }

    /// A caller dialling in a loop is held back; other callers are not.
    func testACallerPastTheBudgetWaitsAndOthersDoNot() {
        let clock = Clock()
        let outcome = EventLoop.queue.sync {
            LoopActor.assumeIsolated { () -> ([Int?], Int?, Int?) in
                let budget = RateBudget(3, per: 60, now: { clock.seconds })
                let mallory = (0..<4).map { _ in budget.spend("mallory") }
                let alice = budget.spend("alice")
                clock.seconds += 20  // one call's worth of budget back (60 / 3 s)
                return (mallory, alice, budget.spend("mallory"))
            }
        }
        XCTAssertEqual(outcome.0.prefix(3).map { $0 == nil }, [true, true, true])
        XCTAssertEqual(outcome.0[3], 20, "the fourth call within the minute waits a third of it")
        XCTAssertNil(outcome.1, "another caller is not held back")
        XCTAssertNil(outcome.2, "the budget comes back over time")
    }

    /// Member lists are an existence oracle (security review L10): every name looked up is counted.
    func testNamesAreCountedPerAccountAndComeBackOverTheHour() {
        let clock = Clock()
        let outcome = EventLoop.queue.sync {
            LoopActor.assumeIsolated { () -> [Int?] in
                let budget = RateBudget(100, per: 3600, now: { clock.seconds })
                var results = [budget.spend("mallory@example.com", cost: 60), budget.spend("mallory@example.com", cost: 40),
                               budget.spend("mallory@example.com", cost: 0), budget.spend("mallory@example.com", cost: 1),
                               budget.spend("alice@example.com", cost: 100)]
                clock.seconds += 36  // one name's worth (3600 / 100 s)
                results.append(budget.spend("mallory@example.com", cost: 1))
                results.append(budget.spend("mallory@example.com", cost: 1))
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
