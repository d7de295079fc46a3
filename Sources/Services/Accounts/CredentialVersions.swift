public import Postgres
public import Loop

/// Each account's credential version (table `account_credentials`): tokens carry the version they
/// were issued under and stop working once it moves on (password change) or the account is deleted.
///
/// Versions are cached per process (``RefreshingCache``, fresh for 1 s, served stale for 1 s more while
/// one refresh runs), so a hot route checks memory, not the database.
@LoopActor
public final class CredentialVersions {
    public static let freshness = 1.0

    private let cache: RefreshingCache<Int64?>

    public init(database: DatabasePool, now: @escaping @Sendable () -> Double) {
        cache = RefreshingCache(freshness: Self.freshness, now: now) { jid throws(DatabaseError) in
            let result = try await database.query("SELECT version FROM account_credentials WHERE jid = $1 AND deleted_at IS NULL", [jid])
            return result.value(0, "version").flatMap { Int64($0) }
        }
    }

    /// The cached answer when usable: `.some(nil)` means the account does not exist; nil means unknown.
    public func cached(_ jid: String) -> Int64?? { cache.cached(jid) }

    /// The current version from the database (nil: no such account), and remembered.
    public func current(_ jid: String) async throws(DatabaseError) -> Int64? { try await cache.current(jid) }

    public func remember(_ jid: String, _ version: Int64?) { cache.remember(jid, version) }

    /// The statement that makes `jid`'s credentials current and returns the version: a new account
    /// gets 1; `bump` (a password change, a registration) moves an existing row to the next version,
    /// revoking its tokens; so does reviving a deleted one. Rows of deleted accounts are kept, so a
    /// name registered again never accepts the old account's tokens.
    static func upsert(_ jid: String, bump: Bool) -> Statement {
        Statement("""
            INSERT INTO account_credentials (jid) VALUES ($1)
            ON CONFLICT (jid) DO UPDATE SET
                version = account_credentials.version
                    + CASE WHEN $2::boolean OR account_credentials.deleted_at IS NOT NULL THEN 1 ELSE 0 END,
                deleted_at = NULL, updated_at = now()
            RETURNING version
            """, [jid, bump ? "true" : "false"])
    }

    /// Marks the account deleted and moves its version on.
    static func delete(_ jid: String) -> Statement {
        Statement("UPDATE account_credentials SET version = version + 1, deleted_at = now(), updated_at = now() WHERE jid = $1", [jid])
    }
}
