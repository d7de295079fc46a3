import Services
import XCTest

final class RateLimiterTests: XCTestCase {
    func testBurstThenOneAttemptPerInterval() {
        var limiter = RateLimiter(burst: 3, per: 10)
        XCTAssertNil(limiter.attempt("alice", now: 0))
        XCTAssertNil(limiter.attempt("alice", now: 0))
        XCTAssertNil(limiter.attempt("alice", now: 0))
        XCTAssertEqual(limiter.attempt("alice", now: 0), 10, "Retry-After in whole seconds")
        XCTAssertEqual(limiter.attempt("alice", now: 4), 6)
        XCTAssertNil(limiter.attempt("bob", now: 4), "keys are independent")
        XCTAssertNil(limiter.attempt("alice", now: 10.5))
        XCTAssertNotNil(limiter.attempt("alice", now: 10.6))
        XCTAssertNil(limiter.attempt("alice", now: 1000), "refilled, never above the burst")
        XCTAssertNil(limiter.attempt("alice", now: 1000))
        XCTAssertNil(limiter.attempt("alice", now: 1000))
        XCTAssertNotNil(limiter.attempt("alice", now: 1000))
    }

    func testACostSpendsThatManyAndIsCappedAtTheBurst() {
        var limiter = RateLimiter(burst: 10, per: 1)
        XCTAssertNil(limiter.attempt("alice", cost: 7, now: 0))
        XCTAssertEqual(limiter.attempt("alice", cost: 4, now: 0), 1, "3 left: one more second for 4")
        XCTAssertNil(limiter.attempt("alice", cost: 3, now: 0))
        XCTAssertEqual(limiter.attempt("alice", cost: 1_000, now: 0), 10, "more than the burst waits for a full bucket")
        XCTAssertNil(limiter.attempt("alice", cost: 1_000, now: 10), "and is then allowed, spending the whole burst")
        XCTAssertNotNil(limiter.attempt("alice", now: 10))
    }
}
