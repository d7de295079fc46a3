import Loop

/// Time as push delivery sees it: injectable, so the retry loop is tested with a fake clock.
public struct PushClock: Sendable {
    /// Seconds on a monotonic scale.
    public let now: @Sendable () -> Double
    public let sleep: @Sendable (Double) async -> Void
    /// Jitter in 0.5…1.0.
    public let jitter: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) async -> Void,
                jitter: @escaping @Sendable () -> Double) {
        self.now = now
        self.sleep = sleep
        self.jitter = jitter
    }

    public static let system = PushClock(
        now: { (ContinuousClock.now - origin).seconds },
        sleep: { seconds in try? await Task.sleep(for: .milliseconds(Int(seconds * 1000))) },
        jitter: { Double.random(in: 0.5...1.0) })

    private static let origin = ContinuousClock.now
}

/// The attempts of one push (CONTRACTS §4): at most 3 retries, jittered exponential backoff that
/// honours Retry-After, and nothing past the push's deadline: each attempt's timeout is the time
/// left (10 s at most), and a retry is made only when at least `minimumAttemptSeconds` remain after
/// its wait.
enum RetryLoop {
    static let maximumRetries = 3
    static let minimumAttemptSeconds = 0.5

    struct Ending: Equatable {
        /// The provider's last answer.
        let outcome: ProviderOutcome
        let retries: Int
        /// Still `.retry` but out of retries or time.
        var gaveUp: Bool { if case .retry = outcome { return true } else { return false } }
    }

    @LoopActor
    static func run(deadline: Double, clock: PushClock, onRetry: @LoopActor () -> Void = {},
                    attempt: @LoopActor (_ timeout: Double) async -> ProviderOutcome) async -> Ending {
        let start = clock.now()
        var retries = 0
        while true {
            let remaining = deadline - (clock.now() - start)
            let outcome = await attempt(max(minimumAttemptSeconds, min(10, remaining)))
            guard case .retry(let after) = outcome else { return Ending(outcome: outcome, retries: retries) }
            let wait = RetryDelay.next(attempt: retries, retryAfter: after, random: clock.jitter())
            guard retries < maximumRetries, clock.now() - start + wait + minimumAttemptSeconds <= deadline else {
                return Ending(outcome: outcome, retries: retries)
            }
            retries += 1
            onRetry()
            await clock.sleep(wait)
        }
    }
}

extension Duration {
    /// In seconds, as the push deadlines count.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
