import Postgres
import Services
import SwitchboardTesting
import XCTest

/// Switchboard's schema through the migration runner, against a real PostgreSQL.
final class SchemaMigrationsTests: DatabaseTestCase {
    func testMigrationsApplyOnceAndAreIdempotent() throws {
        try withFreshSchema { pool, schema in
            let first = try await MigrationRunner.apply(SchemaMigrations.all, to: pool)
            XCTAssertEqual(first, SchemaMigrations.all.map(\.version))
            let second = try await MigrationRunner.apply(SchemaMigrations.all, to: pool)
            XCTAssertEqual(second, [], "a second run applies nothing")
            let tables = try await pool.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", [schema])
            XCTAssertEqual(tables.rows.map { $0[0] }, ["account_credentials", "groups", "push_registrations", "sip_calls", "subscriber", "switchboard_migrations"])
            let indexes = try await pool.query("SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'push_registrations' ORDER BY 1", [schema])
            XCTAssertEqual(indexes.rows.map { $0[0] }, ["push_registrations_jid", "push_registrations_node_key", "push_registrations_pkey",
                                                        "push_registrations_push_token", "push_registrations_voip_token"])
            // The register statement's lookup of another installation's token uses them (no table scan).
            _ = try await pool.query("SET enable_seqscan = off")
            let plan = try await pool.query("""
                EXPLAIN SELECT 1 FROM push_registrations WHERE device_uuid <> 'x' AND app_id = 'a' AND (push_token = 't' OR voip_token = 'v')
                """).rows.compactMap { $0[0] }.joined(separator: "\n")
            XCTAssertTrue(plan.contains("push_registrations_push_token") && plan.contains("push_registrations_voip_token"), plan)
            let recorded = try await pool.query("SELECT count(*) AS n FROM switchboard_migrations").value(0, "n")
            XCTAssertEqual(recorded, String(SchemaMigrations.all.count))
        }
    }

    func testConcurrentMigratorsApplyEachMigrationOnce() throws {
        try withFreshSchema { pool, _ in
            async let first = MigrationRunner.apply(SchemaMigrations.all, to: pool)
            async let second = MigrationRunner.apply(SchemaMigrations.all, to: pool)
            let applied = try await first + second
            XCTAssertEqual(applied.sorted(), SchemaMigrations.all.map(\.version), "each migration ran exactly once")
        }
    }
}
