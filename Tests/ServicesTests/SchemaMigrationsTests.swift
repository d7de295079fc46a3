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
