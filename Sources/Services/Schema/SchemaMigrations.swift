public import Postgres

/// The schema of the tables Switchboard owns (docs/tables.md), as migrations for ``MigrationRunner``.
public enum SchemaMigrations {
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
        // Every /push/register looks a token up in both columns (one installation, one registration:
        // PushRegistry.register); without these it scanned the table.
        Migration(version: 4, name: "push_registrations token indexes", statements: [
            "CREATE INDEX push_registrations_push_token ON push_registrations (push_token)",
            "CREATE INDEX push_registrations_voip_token ON push_registrations (voip_token) WHERE voip_token IS NOT NULL",
        ]),
        // GET /calls/{call_id} (docs/calls.md): who may ask (the caller's account), how the call ended
        // (the cancel hook's reason), and the caller's display name for the missed-call alert.
        Migration(version: 5, name: "sip_calls: call state", statements: [
            "ALTER TABLE sip_calls ADD COLUMN caller_jid text, ADD COLUMN caller_display text, ADD COLUMN end_reason text",
        ]),
    ]
}
