import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor watched on the loop, following the rules that cost hours to learn
/// (../shared/reference/swift-dispatch-c-stack.md §3):
/// - libdispatch keys its epoll registration by fd, so sources are cancelled *before* the fd is
///   closed, and the fd is closed in the last cancel handler (`onClosed`);
/// - a suspended source is never cancelled or released: it is resumed first.
public final class WatchedDescriptor: @unchecked Sendable {
    public let fd: Int32
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var writeSuspended = true
    private var readSuspended = false
    private var pendingCancels = 0
    private var onClosed: (() -> Void)?

    /// `onReadable` runs whenever the fd is readable; `onWritable` only while write interest is on.
    public init(fd: Int32, onReadable: @escaping () -> Void, onWritable: (() -> Void)? = nil) {
        EventLoop.assertOnLoop()
        self.fd = fd
        let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: EventLoop.queue)
        let readHandler = LoopBound(onReadable)
        read.setEventHandler { readHandler.value() }
        read.setCancelHandler { [self] in self.sourceCancelled() }
        read.resume()
        readSource = read
        if let onWritable {
            let write = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: EventLoop.queue)
            let writeHandler = LoopBound(onWritable)
            write.setEventHandler { writeHandler.value() }
            write.setCancelHandler { [self] in self.sourceCancelled() }
            writeSource = write  // starts suspended: write interest is off
        }
    }

    /// Turns write readiness notifications on or off (e.g. while a client library has output queued).
    public func setWriteInterest(_ wanted: Bool) {
        EventLoop.assertOnLoop()
        guard let writeSource, wanted == writeSuspended else { return }
        writeSuspended = !wanted
        if wanted { writeSource.resume() } else { writeSource.suspend() }
    }

    /// Turns read readiness notifications on or off (they start on).
    public func setReadInterest(_ wanted: Bool) {
        EventLoop.assertOnLoop()
        guard let readSource, wanted == readSuspended else { return }
        readSuspended = !wanted
        if wanted { readSource.resume() } else { readSource.suspend() }
    }

    /// Cancels the sources; `closed` runs once both cancel handlers have run, and is where the owner
    /// closes the fd (or calls the C library's close, e.g. `PQfinish`).
    public func close(then closed: @escaping () -> Void) {
        EventLoop.assertOnLoop()
        guard readSource != nil else { return }
        onClosed = closed
        if let writeSource {
            if writeSuspended { writeSource.resume(); writeSuspended = false }
            pendingCancels += 1
            writeSource.cancel()
        }
        pendingCancels += 1
        if readSuspended { readSource?.resume(); readSuspended = false }
        readSource?.cancel()
        readSource = nil
        writeSource = nil
    }

    private func sourceCancelled() {
        pendingCancels -= 1
        if pendingCancels == 0, let closed = onClosed {
            onClosed = nil
            closed()
        }
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
