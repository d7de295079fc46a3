import Loop
import XCTest

final class BackoffTests: XCTestCase {
    func testBackoffFirstAtOnceThenCappedAndJittered() {
        var backoff = Backoff(initial: 0.1, cap: 2, firstRetryImmediate: true)
        XCTAssertEqual(backoff.nextDelay(random: 1), 0)
        XCTAssertEqual(backoff.nextDelay(random: 1), 0.1, accuracy: 1e-9)
        XCTAssertEqual(backoff.nextDelay(random: 1), 0.2, accuracy: 1e-9)
        XCTAssertEqual(backoff.nextDelay(random: 0.5), 0.2, accuracy: 1e-9)
        for _ in 0..<30 { XCTAssertLessThanOrEqual(backoff.nextDelay(random: 1), 2) }
        XCTAssertEqual(backoff.nextDelay(random: 1), 2)
        backoff.succeeded()
        XCTAssertEqual(backoff.nextDelay(random: 1), 0, "after a success the next loss retries at once")
    }

    func testWithoutImmediateFirstRetryTheFirstDelayIsTheInitialOne() {
        var backoff = Backoff(initial: 0.2)
        XCTAssertEqual(backoff.nextDelay(random: 1), 0.2, accuracy: 1e-9)
        XCTAssertEqual(backoff.nextDelay(random: 1), 0.4, accuracy: 1e-9)
        XCTAssertEqual(backoff.delay(attempt: 3, random: 0.5), 0.8, accuracy: 1e-9)
        XCTAssertEqual(backoff.delay(attempt: 1000, random: 1), 0.2 * 65536, "the exponent stops growing; no overflow")
    }
}
