import Loop

/// Each account's credential version (table `account_credentials`): tokens carry the version they
/// were issued under and stop working once it moves on (password change) or the account is deleted.
///
/// Versions are cached per process so a hot route checks memory, not the database. A value younger
/// than `freshness` is used as is; one younger than twice that is still used while one refresh runs
/// in the background; older ones are looked up, one query per account however many requests wait
/// for it. A change made through this instance applies at once; one made through another instance
/// within 2 × `freshness` seconds (plus a query).
@LoopActor
public final class CredentialVersions {
    public static let freshness = 1.0

    private let database: DatabasePool
    private let now: @Sendable () -> Double
    private var cache: [String: (version: Int64?, checkedAt: Double)] = [:]
    /// Accounts being looked up, with the requests waiting for the answer.
    private var lookups: [String: [CheckedContinuation<Result<Int64?, DatabaseError>, Never>]] = [:]

    public init(database: DatabasePool, now: @escaping @Sendable () -> Double) {
        self.database = database
        self.now = now
    }

    /// The cached answer when usable: `.some(nil)` means the account does not exist; nil means unknown.
    public func cached(_ jid: String) -> Int64?? {
        guard let entry = cache[jid] else { return nil }
        let age = now() - entry.checkedAt
        guard age < 2 * Self.freshness else { return nil }
        if age >= Self.freshness, lookups[jid] == nil {
            spawnOnLoop { [weak self] in _ = try? await self?.current(jid) }
        }
        return .some(entry.version)
    }

    /// The current version from the database (nil: no such account), and remembered.
    public func current(_ jid: String) async throws(DatabaseError) -> Int64? {
        if lookups[jid] != nil {
            return try await withCheckedContinuation { lookups[jid, default: []].append($0) }.get()
        }
        lookups[jid] = []
        let outcome: Result<Int64?, DatabaseError>
        do {
            let result = try await database.query("SELECT version FROM account_credentials WHERE jid = $1 AND deleted_at IS NULL", [jid])
            outcome = .success(result.value(0, "version").flatMap { Int64($0) })
        } catch {
            outcome = .failure(error)
        }
        if case .success(let version) = outcome { remember(jid, version) }
        lookups.removeValue(forKey: jid)?.forEach { $0.resume(returning: outcome) }
        return try outcome.get()
    }

    public func remember(_ jid: String, _ version: Int64?) {
        if cache.count >= 100_000 { cache.removeAll(keepingCapacity: true) }
        cache[jid] = (version, now())
    }

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
