/// Token buckets keyed by a string (a username, a client address): each key may spend `burst`
/// attempts at once and regains one every `interval` seconds. Pure apart from the clock parameter.
public struct RateLimiter: Sendable {
    public let burst: Double
    public let interval: Double
    private var buckets: [String: (tokens: Double, updated: Double)] = [:]
    /// Buckets untouched this long are full again and are dropped, so memory stays bounded by the
    /// number of keys active in that window.
    private var lastSweep = 0.0

    /// Keys with a bucket now (active within the refill window): memory in use, for `/metrics`.
    public var keyCount: Int { buckets.count }

    public init(burst: Int, per interval: Double) {
        self.burst = Double(burst)
        self.interval = interval
    }

    /// Spends `cost` attempts (one by default; more than `burst` counts as `burst`) for `key`: nil when
    /// allowed, else the seconds until that many are.
    public mutating func attempt(_ key: String, cost: Int = 1, now: Double) -> Int? {
        let cost = Double(min(max(cost, 1), Int(burst)))
        sweep(now)
        var bucket = buckets[key] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) / interval)
        bucket.updated = now
        guard bucket.tokens >= cost else {
            buckets[key] = bucket
            return max(1, Int(((cost - bucket.tokens) * interval).rounded(.up)))
        }
        bucket.tokens -= cost
        buckets[key] = bucket
        return nil
    }

    private mutating func sweep(_ now: Double) {
        let fullAfter = burst * interval
        guard now - lastSweep > fullAfter else { return }
        lastSweep = now
        buckets = buckets.filter { now - $0.value.updated < fullAfter }
    }
}
