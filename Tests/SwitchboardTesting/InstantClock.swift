import Foundation
public import Loop

/// A fake ``LoopClock`` for tests: it stands still until a test moves it, and sleeping moves it at
/// once by the time slept (recorded), so retry and deadline logic runs in no real time.
public final class InstantClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Double
    private var slept: [Double] = []

    public init(startingAt seconds: Double = 1_000_000) { current = seconds }

    public var seconds: Double { lock.withLock { current } }
    /// Every sleep so far, in order.
    public var sleeps: [Double] { lock.withLock { slept } }

    /// Moves time on without a sleep (time spent working).
    public func advance(_ seconds: Double) { lock.withLock { current += seconds } }

    public var clock: LoopClock {
        LoopClock(now: { self.seconds }, uptime: { self.seconds },
                  sleep: { seconds in self.lock.withLock { self.current += seconds; self.slept.append(seconds) } })
    }
}
