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
}
