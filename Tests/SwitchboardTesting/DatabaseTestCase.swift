import Foundation
import Logging
import Loop
import Postgres
import XCTest

/// Base of the tests that need a real PostgreSQL: scripts/test starts one and sets
/// SWITCHBOARD_TEST_DATABASE_URL; without it they are skipped (and fail under CI).
open class DatabaseTestCase: XCTestCase {
    public private(set) var url: String!

    override open func setUpWithError() throws {
        guard let url = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_DATABASE_URL"] else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("CI must provide SWITCHBOARD_TEST_DATABASE_URL") }
            throw XCTSkip("set SWITCHBOARD_TEST_DATABASE_URL (scripts/test does) to run the database tests")
        }
        self.url = url
    }

    /// Runs `body` with a started pool on the loop and waits for it.
    public func withPool(_ conninfo: String? = nil, settings: DatabasePool.Settings = .init(),
                  _ body: @escaping @Sendable @LoopActor (DatabasePool) async throws -> Void) throws {
        let finished = expectation(description: "pool work")
        let failure = LockedBox<(any Error)?>(nil)
        let conninfo = conninfo ?? url!
        spawnOnLoop {
            let pool = DatabasePool(conninfo: conninfo, settings: settings, logger: Logger(label: "test"))
            pool.start()
            do { try await body(pool) } catch { failure.value = error }
            pool.close()
            finished.fulfill()
        }
        wait(for: [finished], timeout: 30)
        if let error = failure.value { throw error }
    }

    @LoopActor
    public static func waitUntilAvailable(_ pool: DatabasePool) async throws {
        for _ in 0..<200 where !pool.isAvailable { try await Task.sleep(for: .milliseconds(10)) }
        guard pool.isAvailable else { throw DatabaseError.unavailable("pool never connected") }
    }

    /// The ``DatabaseError`` that `work` throws; nil, and a failure of the test, when it succeeds.
    @LoopActor
    public static func databaseError(_ work: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line) async -> DatabaseError? {
        do {
            try await work()
            XCTFail("expected a database error", file: file, line: line)
        } catch let error as DatabaseError {
            return error
        } catch {
            XCTFail("not a database error: \(error)", file: file, line: line)
        }
        return nil
    }

    /// Runs `body` with a pool whose connections see only a fresh, empty schema (their search_path),
    /// so migrations start from nothing; the schema is dropped afterwards.
    public func withFreshSchema(_ body: @escaping @Sendable @LoopActor (DatabasePool, String) async throws -> Void) throws {
        let schema = "migration_test_\(UInt32.random(in: 0...UInt32.max))"
        try withPool { pool in
            try await Self.waitUntilAvailable(pool)
            _ = try await pool.query("CREATE SCHEMA \(schema)")
        }
        let scoped = url! + (url!.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        try withPool(scoped) { pool in
            try await Self.waitUntilAvailable(pool)
            try await body(pool, schema)
            _ = try await pool.query("DROP SCHEMA \(schema) CASCADE")
        }
    }
}

public final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    public init(_ value: T) { stored = value }
    public var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
