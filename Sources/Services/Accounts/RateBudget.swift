public import Loop

/// A ``RateLimiter`` on the loop with its clock, for a route that spends one key's budget per request
/// (the calls one caller starts, the member names one account looks up): `amount` at once, then one
/// back every `period / amount` seconds.
@LoopActor
public final class RateBudget {
    private var limiter: RateLimiter
    private let now: @Sendable () -> Double

    /// Keys with a bucket now (``RateLimiter/keyCount``).
    public var keyCount: Int { limiter.keyCount }

    public init(_ amount: Int, per period: Double, now: @escaping @Sendable () -> Double) {
        limiter = RateLimiter(burst: amount, per: period / Double(amount))
        self.now = now
    }

    /// Spends `cost` of `key`'s budget: nil when allowed (a cost of nothing always is), else the
    /// seconds to wait.
    public func spend(_ key: String, cost: Int = 1) -> Int? {
        guard cost > 0 else { return nil }
        return limiter.attempt(key, cost: cost, now: now())
    }
}
