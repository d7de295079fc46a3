/// Token buckets keyed by a string (a username, a client address): each key may spend `burst`
/// attempts at once and regains one every `interval` seconds. Pure apart from the clock parameter.
public struct RateLimiter: Sendable {
    public let burst: Double
    public let interval: Double
    private var buckets: [String: (tokens: Double, updated: Double)] = [:]
    /// Buckets untouched this long are full again and are dropped, so memory stays bounded by the
    /// number of keys active in that window.
    private var lastSweep = 0.0

    public init(burst: Int, per interval: Double) {
        self.burst = Double(burst)
        self.interval = interval
    }

    /// Spends one attempt for `key`; nil when allowed, else the seconds until the next one is.
    public mutating func attempt(_ key: String, now: Double) -> Int? {
        sweep(now)
        var bucket = buckets[key] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) / interval)
        bucket.updated = now
        guard bucket.tokens >= 1 else {
            buckets[key] = bucket
            return max(1, Int(((1 - bucket.tokens) * interval).rounded(.up)))
        }
        bucket.tokens -= 1
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
