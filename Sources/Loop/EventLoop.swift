import Dispatch
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
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Runs `work` on the loop after `seconds`.
    public static func after(seconds: Double, _ work: @escaping () -> Void) {
        let box = LoopBound(work)
        queue.asyncAfter(deadline: .now() + seconds) { box.value() }
    }
}

/// Carries a loop-confined value (a C handle, a non-Sendable closure) into a closure that Dispatch
/// requires to be `@Sendable`. Only sound when the value is used on the loop alone.
public struct LoopBound<T>: @unchecked Sendable {
    public var value: T
    public init(_ value: T) { self.value = value }
}
