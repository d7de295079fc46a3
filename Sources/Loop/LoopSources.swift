import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor watched on the loop, through the loop's one epoll set (``LoopPoller``).
///
/// `onReadable` runs while the fd is readable (or has hung up or failed) and read interest is on;
/// `onWritable` only while write interest is on. ``close(then:)`` takes the fd out of the set first;
/// the owner closes the fd (or calls its C library's close, e.g. `PQfinish`) in `then`, which runs on
/// the loop's next turn, as the cancel handlers of Dispatch sources did.
public final class WatchedDescriptor: @unchecked Sendable {
    public let fd: Int32
    private var id: UInt64?
    private var interest: LoopPoller.Interest = .read

    public init(fd: Int32, onReadable: @escaping () -> Void, onWritable: (() -> Void)? = nil) {
        EventLoop.assertOnLoop()
        self.fd = fd
        id = LoopPoller.shared.add(.init(fd: fd, interest: .read, onReadable: onReadable, onWritable: onWritable ?? {}))
    }

    /// Turns write readiness notifications on or off (e.g. while a client library has output queued).
    public func setWriteInterest(_ wanted: Bool) {
        set(.write, wanted)
    }

    /// Turns read readiness notifications on or off (they start on).
    public func setReadInterest(_ wanted: Bool) {
        set(.read, wanted)
    }

    private func set(_ kind: LoopPoller.Interest, _ wanted: Bool) {
        EventLoop.assertOnLoop()
        guard let id else { return }
        if wanted { interest.insert(kind) } else { interest.remove(kind) }
        LoopPoller.shared.setInterest(interest, of: id)
    }

    /// Stops watching; `closed` runs on the loop's next turn and is where the owner closes the fd.
    public func close(then closed: @escaping () -> Void) {
        EventLoop.assertOnLoop()
        guard let id else { return }
        self.id = nil
        LoopPoller.shared.remove(id)
        let closed = LoopBound(closed)
        EventLoop.queue.async { closed.value() }
    }
}

/// A restartable one-shot timer on the loop. One Dispatch timer source lives as long as this object
/// and is re-scheduled, never re-created, because hot paths (the HTTP server) re-arm it on every event.
public final class LoopTimer: @unchecked Sendable {
    private let source: DispatchSourceTimer

    public init(_ fire: @escaping () -> Void) {
        source = DispatchSource.makeTimerSource(queue: EventLoop.queue)
        let fire = LoopBound(fire)
        source.setEventHandler { fire.value() }
        source.schedule(deadline: .distantFuture)
        source.resume()
    }

    /// (Re)arms the timer to fire once after `seconds`, replacing any earlier schedule.
    public func schedule(after seconds: Double) {
        source.schedule(deadline: .now() + max(0, seconds), leeway: .microseconds(100))
    }

    /// Disarms the timer; it can be scheduled again.
    public func disarm() {
        source.schedule(deadline: .distantFuture)
    }

    deinit { source.cancel() }
}
