import Postgres
import Foundation
import Loop
import XCTest

final class RefreshingCacheTests: XCTestCase {
    final class Clock: @unchecked Sendable { var now = 1_000.0 }

    /// A loader that counts its calls and answers what `values` holds, after a yield so that
    /// concurrent requests really overlap.
    @LoopActor
    final class Source {
        var loads = 0
        var values: [String: Int] = [:]
        var failing = false

        func load(_ key: String) async throws(DatabaseError) -> Int? {
            loads += 1
            try? await Task.sleep(for: .milliseconds(20))
            if failing { throw .unavailable("down") }
            return values[key]
        }
    }

    private func run(_ body: @escaping @Sendable @LoopActor () async throws -> Void) throws {
        let done = expectation(description: "done")
        let failure = LockedError()
        spawnOnLoop {
            do { try await body() } catch { failure.set(error) }
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        if let error = failure.get() { throw error }
    }

    func testFreshThenStaleWithOneRefreshThenExpired() throws {
        let clock = Clock()
        try run {
            let source = Source()
            source.values["a"] = 1
            let cache = RefreshingCache<Int?>(freshness: 2, now: { clock.now }, spread: { 0 }) { key throws(DatabaseError) in try await source.load(key) }
            XCTAssertTrue(cache.cached("a") == nil, "nothing cached yet")
            let first = try await cache.current("a")
            XCTAssertEqual(first, 1)
            XCTAssertEqual(source.loads, 1)
            clock.now += 1.9
            XCTAssertEqual(cache.cached("a"), .some(1), "fresh")
            XCTAssertEqual(source.loads, 1, "no query while fresh")
            source.values["a"] = 2
            clock.now += 0.2
            XCTAssertEqual(cache.cached("a"), .some(1), "stale: the old value is served…")
            XCTAssertEqual(cache.cached("a"), .some(1))
            try await Task.sleep(for: .milliseconds(100))
            XCTAssertEqual(source.loads, 2, "…while exactly one refresh runs")
            XCTAssertEqual(cache.cached("a"), .some(2), "refreshed")
            clock.now += 4.1
            XCTAssertTrue(cache.cached("a") == nil, "too old to serve")
            clock.now -= 100
            XCTAssertTrue(cache.cached("a") == nil, "a clock that went back does not make an entry fresh")
        }
    }

    @LoopActor
    private static func failed(_ body: @LoopActor () async throws -> Int?) async -> Bool {
        do { _ = try await body(); return false } catch { return true }
    }

    func testConcurrentLookupsShareOneQueryAndItsFailure() throws {
        try run {
            let source = Source()
            source.values["k"] = 7
            let cache = RefreshingCache<Int?>(freshness: 1, now: { 0 }, spread: { 0 }) { key throws(DatabaseError) in try await source.load(key) }
            async let a = cache.current("k")
            async let b = cache.current("k")
            async let c = cache.current("k")
            let answers = try await [a, b, c]
            XCTAssertEqual(answers, [7, 7, 7])
            XCTAssertEqual(source.loads, 1, "one query for three waiting requests")

            source.failing = true
            async let d = Self.failed { try await cache.current("other") }
            async let e = Self.failed { try await cache.current("other") }
            let failures = await [d, e]
            XCTAssertEqual(failures, [true, true], "the failure reaches every waiter")
            XCTAssertEqual(source.loads, 2, "still one query for both")
            XCTAssertTrue(cache.cached("other") == nil, "a failure is not cached")
            XCTAssertEqual(cache.cached("k"), .some(7), "still cached")
        }
    }

    func testEntriesAreDatedEarlyBySpreadSoRefreshesDoNotBunch() throws {
        let clock = Clock()
        try run {
            let cache = RefreshingCache<Int?>(freshness: 2, now: { clock.now }, spread: { 1 }) { _ throws(DatabaseError) in 1 }
            cache.remember("k", 1)
            clock.now += 1.4
            XCTAssertEqual(cache.cached("k"), .some(1))
            clock.now += 2.2
            XCTAssertTrue(cache.cached("k") == nil, "dated half a second early: too old at 3.6 s, not 4 s")
        }
    }

    func testUnknownKeysAreCachedAndRememberWritesThrough() throws {
        try run {
            let source = Source()
            let cache = RefreshingCache<Int?>(freshness: 1, capacity: 2, now: { 0 }, spread: { 0 }) { key throws(DatabaseError) in try await source.load(key) }
            let ghost = try await cache.current("ghost")
            XCTAssertEqual(ghost, Int?.none)
            XCTAssertEqual(cache.cached("ghost"), .some(nil), "an unknown key is cached as unknown")
            cache.remember("ghost", 5)
            XCTAssertEqual(cache.cached("ghost"), .some(5), "a write through this process applies at once")
            cache.remember("b", 1)
            cache.remember("c", 2)
            XCTAssertEqual(cache.cached("c"), .some(2), "past the capacity the cache starts over, keeping the newest")
            XCTAssertTrue(cache.cached("ghost") == nil, "evicted")
        }
    }
}


final class LockedError: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ e: any Error) { lock.withLock { error = e } }
    func get() -> (any Error)? { lock.withLock { error } }
}
