public import Postgres
public import Loop

/// The digest HA1 of each SIP account (table `subscriber`, docs/hooks.md), for Kamailio's auth hook,
/// which blocks a SIP worker while it waits: answered from memory whenever possible.
///
/// Cached for `freshness` seconds (``RefreshingCache``); unknown users are cached too, so a flood of
/// made-up names costs one query per name. Register, password change and delete on this instance
/// write the new value in at once; a change made through another instance is seen within
/// 2 × `freshness` seconds.
@LoopActor
public final class HA1Directory {
    public static let freshness = 2.0
    /// The `subscriber.username` column's width; longer names cannot exist.
    nonisolated static let maximumUsernameBytes = 64

    /// The digest realm, which is also the `subscriber.domain` of every account.
    public let realm: String
    private let cache: RefreshingCache<String?>

    public init(realm: String, database: DatabasePool, now: @escaping @Sendable () -> Double) {
        self.realm = realm
        cache = RefreshingCache(freshness: Self.freshness, now: now) { username throws(DatabaseError) in
            let result = try await database.query("SELECT ha1 FROM subscriber WHERE username = $1 AND domain = $2", [username, realm])
            return result.value(0, "ha1")
        }
    }

    /// What the hook can answer without waiting: `.known(ha1)`, `.unknown`, or `.lookUp` (call
    /// ``lookup(_:)``). Names that cannot exist are unknown without a query.
    public enum Answer: Equatable, Sendable {
        case known(String)
        case unknown
        case lookUp
    }

    public func answerNow(username: String, realm: String) -> Answer {
        guard realm == self.realm, Self.isPossibleUsername(username) else { return .unknown }
        switch cache.cached(username) {
        case .some(.some(let ha1)): return .known(ha1)
        case .some(.none): return .unknown
        case .none: return .lookUp
        }
    }

    /// The HA1 from the database (nil: no such user), remembered.
    public func lookup(_ username: String) async throws(DatabaseError) -> String? {
        try await cache.current(username)
    }

    /// What this instance just stored (nil after a delete).
    public func remember(username: String, ha1: String?) {
        cache.remember(username, ha1)
    }

    nonisolated static func isPossibleUsername(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maximumUsernameBytes && name.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F }
    }
}
