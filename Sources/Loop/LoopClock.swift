#if canImport(Glibc)
import Glibc
#endif

/// Time as the process reads it, in one injectable value: every timeout, deadline, lifetime and rate
/// window comes from a `LoopClock`, so that tests can run the same code on a fake one
/// (`SwitchboardTesting.InstantClock`). The composition root makes ``system`` once and hands it out.
public struct LoopClock: Sendable {
    /// Seconds since the Unix epoch (wall clock): token issue and expiry times, rate-limit windows,
    /// cache ages. May jump when the host's clock is set.
    public let now: @Sendable () -> Double
    /// Seconds on a monotonic scale that never jumps: deadlines and timeouts.
    public let uptime: @Sendable () -> Double
    /// Suspends the calling task for that many seconds of this clock.
    public let sleep: @Sendable (Double) async -> Void

    public init(now: @escaping @Sendable () -> Double, uptime: @escaping @Sendable () -> Double,
                sleep: @escaping @Sendable (Double) async -> Void) {
        self.now = now
        self.uptime = uptime
        self.sleep = sleep
    }

    /// Whole seconds since the epoch, as JWT claims count them.
    public func epochSeconds() -> Int64 { Int64(now()) }

    /// ``epochSeconds()`` as a closure, for parts that take one.
    public var unixSeconds: @Sendable () -> Int64 {
        let now = now
        return { Int64(now()) }
    }

    public static let system = LoopClock(
        now: {
            var time = timespec()
            clock_gettime(CLOCK_REALTIME, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        },
        uptime: { (ContinuousClock.now - origin).seconds },
        sleep: { seconds in try? await Task.sleep(for: .nanoseconds(Int64(max(0, seconds) * 1e9))) })

    private static let origin = ContinuousClock.now
}

extension Duration {
    /// In seconds, as the clock counts.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
