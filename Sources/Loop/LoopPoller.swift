import CEpoll
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// One epoll set for every ``WatchedDescriptor``, itself watched by a single Dispatch read source.
///
/// With a Dispatch source per socket, every readiness event is handed from libdispatch's manager
/// thread to the loop thread; the loop then wakes once per event (docs/
/// loop-and-c-libraries.md: a source per socket halved the HTTP benchmark). Here the loop wakes
/// once for all sockets that became ready together and handles them in one go. Level-triggered, like
/// the sources it replaces: a handler that leaves data unread is called again.
///
/// Registrations are keyed by an id, never by fd, so an event still queued for a descriptor that was
/// just closed (and whose fd number was reused) reaches nobody.
///
/// After a burst of events the poller keeps the loop thread for a moment (``lingerMilliseconds``),
/// blocked in `epoll_wait` on this set, and runs the loop's ``LoopRunQueue`` in between: the reply to
/// what the burst started (a PostgreSQL statement, the next request on a keep-alive connection) then
/// wakes this thread directly. Through Dispatch it would wake libdispatch's manager thread, which
/// wakes a pool thread, which re-arms the source through the manager again; on a 2-core VM those
/// hand-offs were most of a hook's latency. The turn ends after ``lingerMilliseconds`` without an
/// event, or after ``turnBudget`` in all, so other blocks on the loop queue (signal handlers,
/// `EventLoop.after`) wait at most that long.
final class LoopPoller: @unchecked Sendable {
    struct Interest: OptionSet {
        let rawValue: UInt32
        static let read = Interest(rawValue: EPOLLIN.rawValue)
        static let write = Interest(rawValue: EPOLLOUT.rawValue)
    }

    final class Registration {
        let fd: Int32
        let onReadable: () -> Void
        let onWritable: () -> Void
        var interest: Interest
        var inSet = false

        init(fd: Int32, interest: Interest, onReadable: @escaping () -> Void, onWritable: @escaping () -> Void) {
            self.fd = fd
            self.interest = interest
            self.onReadable = onReadable
            self.onWritable = onWritable
        }
    }

    /// Created on first use, on the loop; lives as long as the process.
    static let shared = LoopPoller()

    private let epollFD: Int32
    private let source: any DispatchSourceRead
    private var registrations: [UInt64: Registration] = [:]
    private var nextID: UInt64 = 1
    private var events = [epoll_event](repeating: epoll_event(), count: 64)
    private let wakeFD: Int32
    private static let wakeID: UInt64 = 0

    static let lingerMilliseconds: Int32 = 1
    static let turnBudget: UInt64 = 5_000_000

    private init() {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epollFD >= 0, "epoll_create1 failed: \(errno)")
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(wakeFD >= 0, "eventfd failed: \(errno)")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeID
        precondition(epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0, "epoll_ctl failed: \(errno)")
        source = DispatchSource.makeReadSource(fileDescriptor: epollFD, queue: EventLoop.queue)
        source.setEventHandler { [unowned self] in self.turn() }
        let wakeFD = wakeFD
        LoopRunQueue.shared.wakePoller = { _ = eventfd_write(wakeFD, 1) }
        source.resume()
    }

    func add(_ registration: Registration) -> UInt64 {
        EventLoop.assertOnLoop()
        let id = nextID
        nextID += 1
        registrations[id] = registration
        apply(id, registration)
        return id
    }

    func setInterest(_ interest: Interest, of id: UInt64) {
        EventLoop.assertOnLoop()
        guard let registration = registrations[id], registration.interest != interest else { return }
        registration.interest = interest
        apply(id, registration)
    }

    /// Takes the descriptor out of the set; its fd may be closed right after.
    func remove(_ id: UInt64) {
        EventLoop.assertOnLoop()
        guard let registration = registrations.removeValue(forKey: id) else { return }
        if registration.inSet { epoll_ctl(epollFD, EPOLL_CTL_DEL, registration.fd, nil) }
    }

    /// A descriptor without interest leaves the set entirely: epoll reports hang-ups and errors
    /// whatever was asked, which would otherwise wake the loop for a socket nobody listens to.
    private func apply(_ id: UInt64, _ registration: Registration) {
        if registration.interest.isEmpty {
            if registration.inSet { epoll_ctl(epollFD, EPOLL_CTL_DEL, registration.fd, nil) }
            registration.inSet = false
            return
        }
        var event = epoll_event()
        event.events = registration.interest.rawValue
        event.data.u64 = id
        // It fails when a library closed the fd under us (libpq drops a broken connection's socket
        // itself): then nothing more will come from it, and its owner is about to find out.
        registration.inSet = epoll_ctl(epollFD, registration.inSet ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, registration.fd, &event) == 0
    }

    /// One turn of the loop thread: handles the ready descriptors and queued work, then lingers.
    private func turn() {
        let runQueue = LoopRunQueue.shared
        runQueue.pollerBegins()
        defer { runQueue.pollerEnds() }
        let started = EventLoop.monotonicNanoseconds()
        var timeout: Int32 = 0
        while true {
            if runQueue.runBatch() { timeout = 0 }
            if timeout > 0, !runQueue.pollerMayWait() { timeout = 0 }
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epollFD, $0.baseAddress, Int32($0.count), timeout) }
            if timeout > 0 { runQueue.pollerWoke() }
            if count > 0 { handle(Int(count)) }
            // Quiet for a whole linger: the burst is over; give the thread back.
            if count <= 0, timeout > 0 { return }
            if EventLoop.monotonicNanoseconds() - started > Self.turnBudget { return }
            timeout = count == events.count ? 0 : Self.lingerMilliseconds
        }
    }

    private func handle(_ count: Int) {
        for index in 0..<count {
            let ready = events[index].events, id = events[index].data.u64
            if id == Self.wakeID {
                var value: eventfd_t = 0
                _ = eventfd_read(wakeFD, &value)
                continue
            }
            let failed = ready & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
            if let registration = registrations[id], registration.interest.contains(.read),
               ready & EPOLLIN.rawValue != 0 || failed {
                registration.onReadable()
            }
            // The read handler may have closed it, or turned write interest off.
            if let registration = registrations[id], registration.interest.contains(.write),
               ready & EPOLLOUT.rawValue != 0 || failed {
                registration.onWritable()
            }
        }
    }
}
