public import Loop
import Services

/// How many calls one caller may start (docs/hooks.md, "Calls"): every call wakes the callee's
/// phones through the shared provider queues, so one account dialling in a loop must not fill them.
/// A caller may place `perMinute` calls in a burst and then one every 60 / `perMinute` seconds;
/// past that the call hook answers 429 and Kamailio gives the caller 480.
@LoopActor
public final class CallBudget {
    private var limiter: RateLimiter
    private let now: @Sendable () -> Double

    public init(perMinute: Int, now: @escaping @Sendable () -> Double) {
        limiter = RateLimiter(burst: perMinute, per: 60 / Double(perMinute))
        self.now = now
    }

    /// Spends one call of `caller`'s budget: nil when it may ring, else the seconds to wait.
    public func spend(_ caller: String) -> Int? { limiter.attempt(caller, now: now()) }
}
