import CEpoll
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
        LoopRunQueue.shared.submit(closed)
    }
}

/// A restartable one-shot timer on the loop: a timerfd in the loop's epoll set (``LoopPoller``).
///
/// Hot paths re-arm their timer on every event (the HTTP server after each pass of MHD, each
/// PostgreSQL statement's deadline, libcurl). A Dispatch timer source would wake libdispatch's manager
/// thread for each re-arm; `timerfd_settime` is a plain syscall on the loop thread. And most re-arms
/// move the deadline later (a statement's 5 s deadline, renewed with every statement), so the timerfd
/// is only touched when the deadline moves earlier: when it fires before the wanted time, the timer
/// re-arms itself for the rest. Disarming is lazy the same way: an expiry nobody wants is dropped.
public final class LoopTimer: @unchecked Sendable {
    private let fd: Int32
    private var id: UInt64 = 0
    private let fire: () -> Void
    /// Moves on with every schedule and disarm, so a "fire now" queued earlier knows it is stale.
    private var generation = 0
    /// When the owner wants `fire` to run (CLOCK_MONOTONIC, ns); nil when it does not.
    private var due: UInt64?
    /// When the timerfd is set to expire; nil when it is not set (or has expired).
    private var armed: UInt64?
    /// How often the timerfd itself was set (for the tests of the lazy re-arm).
    private(set) var kernelArms = 0

    public init(_ fire: @escaping () -> Void) {
        EventLoop.assertOnLoop()
        let fd = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        precondition(fd >= 0, "timerfd_create failed: \(errno)")
        self.fd = fd
        self.fire = fire
        // Weak: a timer released off the loop leaves the set only on the loop's next turn (deinit),
        // and an expiry handled before that must not reach the freed object.
        id = LoopPoller.shared.add(.init(fd: fd, interest: .read, onReadable: { [weak self] in self?.expired() }, onWritable: {}))
    }

    /// (Re)arms the timer to fire once after `seconds`, replacing any earlier schedule. A delay of
    /// (almost) nothing fires on the loop's next turn without going through the kernel at all:
    /// libcurl asks for that all the time.
    public func schedule(after seconds: Double) {
        generation += 1
        guard seconds > Self.immediate else {
            due = nil
            let expected = generation
            LoopRunQueue.shared.submit { [self] in
                if generation == expected { fire() }
            }
            return
        }
        let wanted = EventLoop.monotonicNanoseconds() + UInt64((seconds.isFinite ? min(seconds, 86_400) : 86_400) * 1e9)
        due = wanted
        if let armed, armed <= wanted { return }  // it expires first, then re-arms for the rest
        set(wanted)
    }

    static let immediate = 0.000_05

    /// Disarms the timer; it can be scheduled again.
    public func disarm() {
        generation += 1
        due = nil
    }

    private func expired() {
        var expirations: UInt64 = 0
        // Nothing to read: re-armed after it expired, before this event was handled.
        guard read(fd, &expirations, MemoryLayout<UInt64>.size) == MemoryLayout<UInt64>.size else { return }
        armed = nil
        guard let due else { return }
        guard EventLoop.monotonicNanoseconds() >= due else { return set(due) }
        self.due = nil
        fire()
    }

    private func set(_ deadline: UInt64) {
        armed = deadline
        kernelArms += 1
        let value = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        var spec = itimerspec(it_interval: timespec(tv_sec: 0, tv_nsec: 0), it_value: value)
        timerfd_settime(fd, Int32(TFD_TIMER_ABSTIME), &spec, nil)
    }

    deinit {
        let (fd, id) = (fd, id)
        let release: @Sendable () -> Void = { LoopPoller.shared.remove(id); close(fd) }
        if DispatchQueue.getSpecific(key: EventLoop.key) != nil { release() } else { EventLoop.queue.async(execute: release) }
    }
}
