/// Jittered exponential backoff, the one retry policy of the process: retry n (from 0) waits
/// `initial` × 2ⁿ, at most `cap`, times a random factor in 0.5…1 so that parts which failed together
/// do not retry together. Used as a value (``delay(attempt:random:)``) where the caller counts its
/// attempts, or as a counter (``nextDelay(random:)``, ``succeeded()``) for a connection that reconnects.
public struct Backoff: Sendable {
    public let initial: Double
    public let cap: Double
    /// Whether the first retry after a success happens at once (a connection that was up retries at
    /// once; only repeated failures back off).
    public let firstRetryImmediate: Bool
    public private(set) var failures = 0

    public init(initial: Double, cap: Double = .infinity, firstRetryImmediate: Bool = false) {
        self.initial = initial
        self.cap = cap
        self.firstRetryImmediate = firstRetryImmediate
    }

    /// The delay before retry `attempt` (0 for the first).
    public func delay(attempt: Int, random: Double = Double.random(in: 0.5...1.0)) -> Double {
        min(cap, initial * Double(1 << min(attempt, 16))) * random
    }

    /// The delay before the next attempt; counts this failure.
    public mutating func nextDelay(random: Double = Double.random(in: 0.5...1.0)) -> Double {
        defer { failures += 1 }
        if firstRetryImmediate {
            return failures == 0 ? 0 : delay(attempt: failures - 1, random: random)
        }
        return delay(attempt: failures, random: random)
    }

    public mutating func succeeded() { failures = 0 }
}
