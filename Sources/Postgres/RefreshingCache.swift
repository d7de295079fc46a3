public import Loop

/// A per-process cache of values read from the database, for hot paths that must answer from memory.
///
/// A value younger than `freshness` is used as is; one younger than twice that is still used while
/// one refresh runs in the background; older ones are looked up again, with one query per key however
/// many requests wait for it (single flight). Changes made through this process are written in with
/// ``remember(_:_:)`` and apply at once; changes made elsewhere (another instance) are seen within
/// 2 × `freshness` seconds plus a query.
@LoopActor
public final class RefreshingCache<Value: Sendable> {
    public typealias Loader = @LoopActor (String) async throws(DatabaseError) -> Value

    public let freshness: Double
    private let capacity: Int
    private let now: @Sendable () -> Double
    /// 0…1: how early, in quarters of `freshness`, a new entry is dated.
    private let spread: @Sendable () -> Double
    private let load: Loader
    private var entries: [String: (value: Value, storedAt: Double)] = [:]
    /// Keys being looked up, with the requests waiting for the answer.
    private var lookups: [String: [CheckedContinuation<Result<Value, DatabaseError>, Never>]] = [:]

    public init(freshness: Double, capacity: Int = 100_000, now: @escaping @Sendable () -> Double,
                spread: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }, load: @escaping Loader) {
        self.freshness = freshness
        self.capacity = capacity
        self.now = now
        self.spread = spread
        self.load = load
    }

    /// The cached value when still usable (starting a background refresh when it is getting old);
    /// nil when the caller must wait for ``current(_:)``.
    public func cached(_ key: String) -> Value? {
        guard let entry = entries[key] else { return nil }
        let age = now() - entry.storedAt
        guard age >= 0, age < 2 * freshness else { return nil }
        if age >= freshness, lookups[key] == nil {
            spawnOnLoop { [weak self] in _ = try? await self?.current(key) }
        }
        return entry.value
    }

    /// The value from the database, remembered.
    public func current(_ key: String) async throws(DatabaseError) -> Value {
        if lookups[key] != nil {
            return try await withCheckedContinuation { lookups[key, default: []].append($0) }.get()
        }
        lookups[key] = []
        let outcome: Result<Value, DatabaseError>
        do {
            outcome = .success(try await load(key))
        } catch {
            outcome = .failure(error)
        }
        if case .success(let value) = outcome { remember(key, value) }
        lookups.removeValue(forKey: key)?.forEach { $0.resume(returning: outcome) }
        return try outcome.get()
    }

    /// Writes a value this process just stored (or learnt), so it applies at once.
    ///
    /// Entries are dated up to a quarter of `freshness` early, at random: keys loaded together (a
    /// burst of traffic, a restart) then come up for refresh spread out instead of all at once.
    public func remember(_ key: String, _ value: Value) {
        if entries.count >= capacity, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
        entries[key] = (value, now() - spread() * freshness / 4)
    }
}
