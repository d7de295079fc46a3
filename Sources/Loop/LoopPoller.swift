import CEpoll
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// One epoll set for every ``WatchedDescriptor``, itself watched by a single Dispatch read source.
///
/// With a Dispatch source per socket, every readiness event is handed from libdispatch's manager
/// thread to the loop thread; the loop then wakes once per event (../shared/reference/
/// swift-dispatch-c-stack.md §4: a source per socket halved the HTTP benchmark). Here the loop wakes
/// once for all sockets that became ready together and handles them in one go. Level-triggered, like
/// the sources it replaces: a handler that leaves data unread is called again.
///
/// Registrations are keyed by an id, never by fd, so an event still queued for a descriptor that was
/// just closed (and whose fd number was reused) reaches nobody.
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
    nonisolated(unsafe) static let shared = LoopPoller()

    private let epollFD: Int32
    private let source: DispatchSourceRead
    private var registrations: [UInt64: Registration] = [:]
    private var nextID: UInt64 = 1
    private var events = [epoll_event](repeating: epoll_event(), count: 64)

    private init() {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epollFD >= 0, "epoll_create1 failed: \(errno)")
        source = DispatchSource.makeReadSource(fileDescriptor: epollFD, queue: EventLoop.queue)
        source.setEventHandler { [unowned self] in self.drain() }
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

    /// Handles every ready descriptor; reads the set again while it came back full.
    private func drain() {
        var count: Int32
        repeat {
            count = events.withUnsafeMutableBufferPointer { epoll_wait(epollFD, $0.baseAddress, Int32($0.count), 0) }
            guard count > 0 else { return }
            for index in 0..<Int(count) {
                let ready = events[index].events, id = events[index].data.u64
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
        } while Int(count) == events.count
    }
}
