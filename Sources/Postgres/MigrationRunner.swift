import Loop

/// One schema change: its statements run in one transaction, once.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// Applies migrations in order, each once, each in its own transaction, recording them in
/// `switchboard_migrations`. An advisory lock makes instances that start together take turns.
public enum MigrationRunner {
    /// Key of the transaction-scoped advisory lock ("switchboard migrations").
    static let lockKey = "7415620195"

    /// Applies every migration not yet recorded; returns the versions applied now.
    @LoopActor
    public static func apply(_ migrations: [Migration], to pool: DatabasePool) async throws -> [Int] {
        // Under the lock too: two instances creating the table at once would race in the catalog.
        try await pool.transaction { tx in
            _ = try await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey])
            _ = try await tx.query("""
                CREATE TABLE IF NOT EXISTS switchboard_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            let ran = try await pool.transaction { tx in
                _ = try await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey])
                let done = try await tx.query("SELECT 1 FROM switchboard_migrations WHERE version = $1", [String(migration.version)])
                guard done.rows.isEmpty else { return false }
                for statement in migration.statements { _ = try await tx.query(statement) }
                _ = try await tx.query("INSERT INTO switchboard_migrations (version, name) VALUES ($1, $2)",
                                       [String(migration.version), migration.name])
                return true
            }
            if ran { applied.append(migration.version) }
        }
        return applied
    }

    /// Each migration and when it was applied (nil: pending), in version order, for `migrate --status`.
    /// Reads only: a database never migrated has every migration pending.
    @LoopActor
    public static func status(_ migrations: [Migration], in pool: DatabasePool) async throws -> [(Migration, appliedAt: String?)] {
        let exists = try await pool.query("SELECT to_regclass('switchboard_migrations') IS NOT NULL AS present")
        var applied: [Int: String] = [:]
        if exists.value(0, "present") == "t" {
            let rows = try await pool.query("SELECT version, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS at FROM switchboard_migrations")
            for row in rows.rows.indices {
                if let version = rows.value(row, "version").flatMap(Int.init), let at = rows.value(row, "at") { applied[version] = at }
            }
        }
        return migrations.sorted { $0.version < $1.version }.map { ($0, applied[$0.version]) }
    }
}
