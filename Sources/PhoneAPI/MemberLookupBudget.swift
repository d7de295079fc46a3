public import Loop
import Services

/// How many member names one account may have looked up (docs/api.md, "Groups"). A member list
/// answered 400 `invalid_member` or 201/200 tells whether every name in it is an account, so an
/// unbounded stream of lists would enumerate the server's users, which login's uniform 401 hides
/// (security review L10). Every name in a member list that is created or added spends one lookup,
/// whatever the answer; an account has `perHour` in a burst, then regains one every 3600 / `perHour`
/// seconds; past that, 429 with `Retry-After`.
@LoopActor
public final class MemberLookupBudget {
    private var limiter: RateLimiter
    private let now: @Sendable () -> Double

    public init(perHour: Int, now: @escaping @Sendable () -> Double) {
        limiter = RateLimiter(burst: perHour, per: 3600 / Double(perHour))
        self.now = now
    }

    /// Spends `names` lookups of `account`'s budget: nil when the list may be looked up, else the
    /// seconds to wait. An empty list costs nothing.
    public func spend(_ names: Int, by account: String) -> Int? {
        guard names > 0 else { return nil }
        return limiter.attempt(account, cost: names, now: now())
    }
}
