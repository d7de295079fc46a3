import Foundation
import Logging
import Loop
import Postgres
import SwitchboardTesting
import XCTest

/// The pool against a real PostgreSQL.
final class DatabasePoolTests: DatabaseTestCase {
    func testParametersAreNeverInterpolated() throws {
        try withPool { pool in
            try await Self.waitUntilAvailable(pool)
            let hostile = "x'); DROP TABLE users; --"
            let result = try await pool.query("SELECT $1::text AS v, $2::text AS n, length($1) AS len", [hostile, nil])
            XCTAssertEqual(result.value(0, "v"), hostile)
            XCTAssertEqual(result.rows[0][1], nil)
            XCTAssertEqual(result.value(0, "len"), String(hostile.count))
            XCTAssertEqual(result.columns, ["v", "n", "len"])
        }
    }

    func testServerErrorsCarryTheirSQLState() throws {
        try withPool { pool in
            try await Self.waitUntilAvailable(pool)
            let missing = await Self.databaseError { _ = try await pool.query("SELECT * FROM no_such_table") }
            guard case .server(let state, let message)? = missing else { return XCTFail("\(String(describing: missing))") }
            XCTAssertEqual(state, "42P01")
            XCTAssertTrue(message.contains("no_such_table"))
            // The connection is still good.
            let observed = try await pool.query("SELECT 1 AS one").value(0, "one")

            XCTAssertEqual(observed, "1")
        }
    }

    /// Statements with parameters are prepared on first use and run by name after; failures of the
    /// first run (prepare or execute) leave the connection and later runs correct.
    func testParameterisedStatementsArePreparedOnceAndStayCorrect() throws {
        var settings = DatabasePool.Settings()
        settings.size = 1
        try withPool(settings: settings) { pool in
            try await Self.waitUntilAvailable(pool)
            let table = "prepared_\(UInt32.random(in: 0...UInt32.max))"
            _ = try await pool.query("CREATE TEMP TABLE \(table) (id int PRIMARY KEY, note text)")
            let insert = "INSERT INTO \(table) (id, note) VALUES ($1, $2) RETURNING note"
            for (id, note) in [("1", "first"), ("2", "second")] {
                let inserted = try await pool.query(insert, [id, note]).value(0, "note")
                XCTAssertEqual(inserted, note)
            }
            // The same statement failing at execution keeps its name; the next run still works.
            let again = await Self.databaseError { _ = try await pool.query(insert, ["1", "again"]) }
            XCTAssertTrue(again.map(Self.isUniqueViolation) == true, "\(String(describing: again))")
            let third = try await pool.query(insert, ["3", "third"]).value(0, "note")
            XCTAssertEqual(third, "third")
            let prepared = try await pool.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1", ["INSERT INTO \(table)%"])
            XCTAssertEqual(prepared.value(0, "n"), "1", "prepared once on this connection")

            // A first run that fails at execution (the statement was prepared) and one that cannot
            // even be prepared: both report their error, and later statements are unaffected.
            let failingFirst = "INSERT INTO \(table) (id, note) VALUES ($1::int, $2) RETURNING id"
            let duplicate = await Self.databaseError { _ = try await pool.query(failingFirst, ["1", "duplicate on first use"]) }
            XCTAssertTrue(duplicate.map(Self.isUniqueViolation) == true, "\(String(describing: duplicate))")
            let fourth = try await pool.query(failingFirst, ["4", "fourth"]).value(0, "id")
            XCTAssertEqual(fourth, "4")
            let nonsense = await Self.databaseError { _ = try await pool.query("SELEC nonsense WHERE $1", ["x"]) }
            guard case .server(let state, _)? = nonsense else { return XCTFail("\(String(describing: nonsense))") }
            XCTAssertEqual(state, "42601")
            let count = try await pool.query("SELECT count(*) AS n FROM \(table) WHERE id > $1", ["0"]).value(0, "n")
            XCTAssertEqual(count, "4")
        }
    }

    func testTransactionsCommitAndRollBack() throws {
        let table = "pool_test_\(UInt32.random(in: 0...UInt32.max))"
        try withPool { pool in
            try await Self.waitUntilAvailable(pool)
            _ = try await pool.query("CREATE TABLE \(table) (id int PRIMARY KEY)")
            try await pool.transaction { tx in
                _ = try await tx.query("INSERT INTO \(table) VALUES (1)")
                _ = try await tx.query("INSERT INTO \(table) VALUES (2)")
            }
            let rolledBack = await Self.databaseError {
                try await pool.transaction { tx in
                    _ = try await tx.query("INSERT INTO \(table) VALUES (3)")
                    _ = try await tx.query("INSERT INTO \(table) VALUES (1)")  // unique violation
                }
            }
            XCTAssertTrue(rolledBack.map(Self.isUniqueViolation) == true)
            let observed = try await pool.query("SELECT count(*) AS n FROM \(table)").value(0, "n")

            XCTAssertEqual(observed, "2", "3 was rolled back")
            _ = try await pool.query("DROP TABLE \(table)")
        }
    }

    func testPipelineRunsABatchAsOneUnit() throws {
        let table = "pipe_test_\(UInt32.random(in: 0...UInt32.max))"
        try withPool { pool in
            try await Self.waitUntilAvailable(pool)
            _ = try await pool.query("CREATE TABLE \(table) (id int PRIMARY KEY)")
            let inserts = (1...500).map { Statement("INSERT INTO \(table) VALUES ($1)", [String($0)]) }
            let results = try await pool.pipeline(inserts + [Statement("SELECT count(*) AS n FROM \(table)")])
            XCTAssertEqual(results.count, 501)
            XCTAssertEqual(results.last?.value(0, "n"), "500")
            let batch = await Self.databaseError {
                _ = try await pool.pipeline([Statement("INSERT INTO \(table) VALUES (1000)"), Statement("INSERT INTO \(table) VALUES (1)")])
            }
            XCTAssertTrue(batch.map(Self.isUniqueViolation) == true, "the first real error is reported: \(String(describing: batch))")
            let observed = try await pool.query("SELECT count(*) AS n FROM \(table)").value(0, "n")

            XCTAssertEqual(observed, "500", "the failed batch left nothing")
            _ = try await pool.query("DROP TABLE \(table)")
        }
    }

    func testManyConcurrentQueriesAllAnswer() throws {
        try withPool { pool in
            try await Self.waitUntilAvailable(pool)
            let tally = Tally()
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                for i in 0..<2000 {
                    spawnOnLoop {
                        let value = try? await pool.query("SELECT $1::int * 2 AS v", [String(i)]).value(0, "v")
                        tally.record(correct: value == String(i * 2))
                        if tally.answered == 2000 { done.resume() }
                    }
                }
            }
            XCTAssertEqual(tally.correct, 2000)
        }
    }

    @LoopActor final class Tally {
        var answered = 0, correct = 0
        func record(correct ok: Bool) { answered += 1; if ok { correct += 1 } }
    }

    func testAStatementPastItsDeadlineFailsAndThePoolRecovers() throws {
        var settings = DatabasePool.Settings()
        settings.statementTimeout = 0.3
        try withPool(settings: settings) { pool in
            try await Self.waitUntilAvailable(pool)
            let slow = await Self.databaseError { _ = try await pool.query("SELECT pg_sleep(5)") }
            XCTAssertEqual(slow, .timedOut)
            try await Self.waitUntilAvailable(pool)
            let observed = try await pool.query("SELECT 2 AS two").value(0, "two")

            XCTAssertEqual(observed, "2")
        }
    }

    /// A slow PostgreSQL answers quickly instead of letting work pile up: past the bound a statement
    /// fails at once, and each waits at most its deadline.
    func testWaitingWorkIsBoundedAndFailsAtOnceBeyondIt() throws {
        try withReadyPool(size: 1, statementTimeout: 3) { pool in
            let tally = Outcomes()
            let started = ContinuousClock.now
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                spawnOnLoop { _ = try? await pool.query("SELECT pg_sleep(0.5)") }
                for _ in 0..<1100 {
                    spawnOnLoop {
                        do throws(DatabaseError) {
                            _ = try await pool.query("SELECT 1")
                            tally.succeeded += 1
                        } catch {
                            if case .unavailable(let message) = error, message.contains("busy") {
                                tally.refusedAfter.append(ContinuousClock.now - started)
                            }
                        }
                        if tally.succeeded + tally.refusedAfter.count == 1100 { done.resume() }
                    }
                }
            }
            XCTAssertEqual(tally.succeeded, 1000, "the bound's worth waited and ran")
            XCTAssertEqual(tally.refusedAfter.count, 100)
            XCTAssertTrue(tally.refusedAfter.allSatisfy { $0 < .milliseconds(300) }, "refused at once, not after the slow one")
        }
    }

    @LoopActor final class Outcomes {
        var succeeded = 0
        var refusedAfter: [Duration] = []
        var codes: [String] = []
    }

    /// Work that waited past its deadline fails alone: the statement in flight and the connection
    /// are untouched (no reset).
    func testAStatementThatWaitedTooLongFailsAlone() throws {
        try withReadyPool(size: 1, statementTimeout: 1) { pool in
            let backend = try await pool.query("SELECT pg_backend_pid() AS pid").value(0, "pid")
            let outcomes = await Self.together(pool, [("a", "SELECT pg_sleep(0.7)"), ("b", "SELECT pg_sleep(0.7)"), ("c", "SELECT 1")])
            // c waited behind a and b; at 1 s it was still waiting (b ran from 0.7 s): it alone failed.
            XCTAssertEqual(outcomes, ["a ok", "b ok", "c timedOut"])
            let after = try await pool.query("SELECT pg_backend_pid() AS pid").value(0, "pid")
            XCTAssertEqual(after, backend, "the same connection: nothing was reset")
        }
    }

    /// A statement in flight past its deadline resets its connection; the work waiting behind it
    /// moves to another connection instead of failing with it.
    func testWorkWaitingBehindATimedOutStatementMovesOn() throws {
        try withReadyPool(size: 2, statementTimeout: 0.5) { pool in
            for _ in 0..<100 where !(try await Self.bothConnected(pool)) { try await Task.sleep(for: .milliseconds(20)) }
            // In order: the sleeper takes the first connection, the short one the second, and the
            // last waits behind the sleeper (equal loads: the first connection).
            let outcomes = await Self.together(pool, [("sleeper", "SELECT pg_sleep(3)"), ("short", "SELECT pg_sleep(0.2)"), ("behind", "SELECT 42 AS v")])
            XCTAssertEqual(outcomes, ["behind ok 42", "short ok", "sleeper timedOut"])
        }
    }

    /// A pool of `size` connections with this statement timeout, once one connection is up.
    private func withReadyPool(size: Int, statementTimeout: Double, _ body: @escaping @Sendable @LoopActor (DatabasePool) async throws -> Void) throws {
        var settings = DatabasePool.Settings()
        settings.size = size
        settings.statementTimeout = statementTimeout
        try withPool(settings: settings) { pool in
            try await Self.waitUntilAvailable(pool)
            try await body(pool)
        }
    }

    /// Sends the statements at once, in this order, and returns "name ok" (with column `v` when there
    /// is one) or "name <error>" for each, sorted.
    @LoopActor
    private static func together(_ pool: DatabasePool, _ statements: [(String, String)]) async -> [String] {
        let outcomes = Outcomes()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for (name, sql) in statements {
                spawnOnLoop {
                    do {
                        let result = try await pool.query(sql)
                        outcomes.codes.append("\(name) ok\(result.value(0, "v").map { " " + $0 } ?? "")")
                    } catch {
                        outcomes.codes.append("\(name) \(error)")
                    }
                    if outcomes.codes.count == statements.count { done.resume() }
                }
            }
        }
        return outcomes.codes.sorted()
    }

    @LoopActor
    private static func bothConnected(_ pool: DatabasePool) async throws -> Bool {
        let first = spawnOnLoop { try? await pool.query("SELECT pg_backend_pid() AS p, pg_sleep(0.05)").value(0, "p") }
        let second = spawnOnLoop { try? await pool.query("SELECT pg_backend_pid() AS p, pg_sleep(0.05)").value(0, "p") }
        let (a, b) = (await first.value, await second.value)
        return a != nil && b != nil && a != b
    }

    func testNoServerMeansUnavailableAtOnce() throws {
        try withPool("postgresql://nobody@127.0.0.1:1/none") { pool in
            try await Task.sleep(for: .milliseconds(100))
            XCTAssertFalse(pool.isAvailable)
            let started = ContinuousClock.now
            for error in [await Self.databaseError { _ = try await pool.query("SELECT 1") },
                          await Self.databaseError { try await pool.transaction { _ in } }] {
                guard case .unavailable? = error else { return XCTFail("\(String(describing: error))") }
            }
            XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(50), "no waiting for a server that is not there")
        }
    }

    /// SQLSTATE 23505.
    private static func isUniqueViolation(_ error: DatabaseError) -> Bool {
        if case .server(let state, _) = error { return state == "23505" }
        return false
    }
}
