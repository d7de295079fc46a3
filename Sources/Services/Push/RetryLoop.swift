import Loop

/// The attempts of one push (docs/pushes.md): at most 3 retries, jittered exponential backoff that
/// honours Retry-After, and nothing past the push's deadline: each attempt's timeout is the time
/// left (10 s at most), and a retry is made only when at least `minimumAttemptSeconds` remain after
/// its wait.
enum RetryLoop {
    static let maximumRetries = 3
    static let minimumAttemptSeconds = 0.5

    struct Ending: Equatable {
        /// The provider's last answer; still `.retry` when retries or time ran out.
        let outcome: ProviderOutcome
        let retries: Int
    }

    /// `jitter` gives a factor in 0.5…1.0 for each backoff.
    @LoopActor
    static func run(deadline: Double, clock: LoopClock, jitter: @Sendable () -> Double, onRetry: @LoopActor () -> Void = {},
                    attempt: @LoopActor (_ timeout: Double) async -> ProviderOutcome) async -> Ending {
        let start = clock.uptime()
        var retries = 0
        while true {
            let remaining = deadline - (clock.uptime() - start)
            let outcome = await attempt(max(minimumAttemptSeconds, min(10, remaining)))
            guard case .retry(let after) = outcome else { return Ending(outcome: outcome, retries: retries) }
            let wait = RetryDelay.next(attempt: retries, retryAfter: after, random: jitter())
            guard retries < maximumRetries, clock.uptime() - start + wait + minimumAttemptSeconds <= deadline else {
                return Ending(outcome: outcome, retries: retries)
            }
            retries += 1
            onRetry()
            await clock.sleep(wait)
        }
    }
}

/// Jittered exponential backoff: 0.2 s, 0.4 s, 0.8 s … (50–100 % each), or Retry-After when longer.
enum RetryDelay {
    static let backoff = Backoff(initial: 0.2)

    static func next(attempt: Int, retryAfter: Double?, random: Double = Double.random(in: 0.5...1.0)) -> Double {
        max(backoff.delay(attempt: attempt, random: random), retryAfter ?? 0)
    }
}
