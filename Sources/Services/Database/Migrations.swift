import Loop

/// Schema changes of the tables Switchboard owns (CONTRACTS §5), applied in order, each once, each
/// in its own transaction. An advisory lock makes instances that start together take turns.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]
}

public enum Migrations {
    /// Key of the transaction-scoped advisory lock ("switchboard migrations").
    static let lockKey = "7415620195"

    public static let all: [Migration] = [
        Migration(version: 1, name: "push_registrations, subscriber, groups", statements: [
            """
            CREATE TABLE push_registrations (
                device_uuid text PRIMARY KEY,
                jid text NOT NULL,
                platform text NOT NULL CHECK (platform IN ('ios', 'android')),
                push_token text NOT NULL,
                voip_token text,
                app_id text NOT NULL,
                environment text NOT NULL DEFAULT 'production' CHECK (environment IN ('production', 'sandbox')),
                node text NOT NULL UNIQUE,
                secret text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                push_token_dead_at timestamptz,
                voip_token_dead_at timestamptz
            )
            """,
            "CREATE INDEX push_registrations_jid ON push_registrations (jid)",
            """
            CREATE TABLE subscriber (
                id serial PRIMARY KEY,
                username varchar(64) NOT NULL DEFAULT '',
                domain varchar(64) NOT NULL DEFAULT '',
                password varchar(64) NOT NULL DEFAULT '',
                ha1 varchar(128) NOT NULL DEFAULT '',
                ha1b varchar(128) NOT NULL DEFAULT '',
                CONSTRAINT subscriber_account_idx UNIQUE (username, domain)
            )
            """,
            "CREATE INDEX subscriber_username_idx ON subscriber (username)",
            """
            CREATE TABLE groups (
                room_jid text PRIMARY KEY,
                owner_jid text NOT NULL,
                name text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX groups_owner_jid ON groups (owner_jid)",
        ]),
        Migration(version: 2, name: "account_credentials (token revocation)", statements: [
            """
            CREATE TABLE account_credentials (
                jid text PRIMARY KEY,
                version bigint NOT NULL DEFAULT 1,
                deleted_at timestamptz,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
        ]),
        // UNLOGGED: a call matters for its ring window only. Writes skip the WAL, so the call hook's
        // commit does not wait for a disk flush (measured: bench/sip_bench.py); after a PostgreSQL
        // crash the table starts empty, which costs at most a repeated push.
        Migration(version: 3, name: "sip_calls (call pushes, idempotent per Call-ID)", statements: [
            """
            CREATE UNLOGGED TABLE sip_calls (
                call_id text PRIMARY KEY,
                callee_jid text NOT NULL,
                caller text NOT NULL,
                device_uuids text[] NOT NULL,
                ring_until timestamptz NOT NULL,
                cancelled_at timestamptz,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX sip_calls_ring_until ON sip_calls (ring_until)",
        ]),
    ]

    /// Applies every migration not yet recorded; returns the versions applied now.
    @LoopActor
    public static func apply(_ migrations: [Migration] = all, to pool: DatabasePool) async throws -> [Int] {
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
}
