import Loop
import SIPHooks
import XCTest

final class CallBudgetTests: XCTestCase {
    final class Clock: @unchecked Sendable {
        var seconds = 1_000.0
    }

    /// A caller dialling in a loop is held back; other callers are not.
    func testACallerPastTheBudgetWaitsAndOthersDoNot() {
        let clock = Clock()
        let outcome = EventLoop.queue.sync {
            LoopActor.assumeIsolated { () -> ([Int?], Int?, Int?) in
                let budget = CallBudget(perMinute: 3, now: { clock.seconds })
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
}
