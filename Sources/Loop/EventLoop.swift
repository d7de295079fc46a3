public import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The one serial queue that owns every socket, timer and C handle in the process.
///
/// Objects that wrap C handles are loop-confined: they are `@unchecked Sendable`, assert
/// `EventLoop.assertOnLoop()` at their entry points and take non-`@Sendable` callbacks, because those
/// callbacks only ever run here. Async code runs here too, through ``LoopActor``.
public enum EventLoop {
    public static let queue: DispatchQueue = {
        let queue = DispatchQueue(label: "switchboard.loop")
        queue.setSpecific(key: key, value: ())
        return queue
    }()

    /// Marks the loop's queue, for code that must know whether it runs there without trapping.
    static let key = DispatchSpecificKey<Void>()

    /// Traps when called off the loop (in debug and release builds alike: a race here corrupts C state).
    @inline(__always)
    public static func assertOnLoop() {
        dispatchPrecondition(condition: .onQueue(queue))
    }

    /// CLOCK_MONOTONIC in nanoseconds: the clock of the loop's timers and turns.
    public static func monotonicNanoseconds() -> UInt64 { nanoseconds(of: CLOCK_MONOTONIC) }

    /// The same scale at the resolution of a scheduler tick (a few ms), and cheaper to read: for
    /// deadlines of seconds checked on every request.
    public static func coarseMonotonicNanoseconds() -> UInt64 { nanoseconds(of: CLOCK_MONOTONIC_COARSE) }

    private static func nanoseconds(of clock: clockid_t) -> UInt64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Runs `work` on the loop after `seconds`.
    public static func after(seconds: Double, _ work: @escaping () -> Void) {
        let box = LoopBound(work)
        queue.asyncAfter(deadline: .now() + seconds) { box.value() }
    }
}

/// A loop-confined value (a C handle, a non-Sendable closure) that may travel through `@Sendable`
/// closures because it is only ever touched on the loop, and that checks it: creating it, reading it
/// and changing it trap off the loop (as swift-nio's `NIOLoopBound` does). For a value that really
/// moves between threads once (a result computed off the loop), use ``UnsafeTransfer``.
public struct LoopBound<T>: @unchecked Sendable {
    private var stored: T

    public init(_ value: T) {
        EventLoop.assertOnLoop()
        stored = value
    }

    public var value: T {
        get {
            EventLoop.assertOnLoop()
            return stored
        }
        set {
            EventLoop.assertOnLoop()
            stored = newValue
        }
    }
}

/// A value handed from one thread to another exactly once, unchecked: the sender gives it up when it
/// sends it. Named as unsafe because the compiler cannot see that promise; keep each use to one line
/// of hand-off (e.g. a blocking lookup's result brought back to the loop).
public struct UnsafeTransfer<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
