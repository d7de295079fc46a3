import Dispatch
import Synchronization

/// The loop's own list of work to run next: resumed tasks (``LoopExecutor``), "next turn" callbacks
/// of ``WatchedDescriptor`` and ``LoopTimer``.
///
/// It exists so that ``LoopPoller`` can keep the loop thread between bursts of events: while the
/// poller lingers in `epoll_wait` for a reply that is about to come (PostgreSQL answers in ~0.3 ms),
/// it runs what is queued here between its waits, one batch at a time, so a resumed task does not
/// wait behind the poller and a task that keeps yielding does not starve the sockets. Work queued
/// while the poller is not running goes to ``EventLoop/queue``, one Dispatch block per batch.
///
/// Safe to call from any thread: a task may be started or resumed off the loop.
final class LoopRunQueue: Sendable {
    /// Not Sendable in itself (a loop-confined closure); it is only ever run on the loop.
    enum Work: @unchecked Sendable {
        case job(UnownedJob)
        case closure(() -> Void)
    }

    private struct State {
        var pending: [Work] = []
        /// A Dispatch block that runs ``runBatch()`` is queued.
        var drainQueued = false
        /// The poller is handling events and runs the list between its waits.
        var pollerActive = false
        /// The poller sleeps in `epoll_wait`: new work must wake it.
        var pollerWaiting = false
    }

    static let shared = LoopRunQueue()

    private let state = Mutex(State())

    /// Set by ``LoopPoller`` once: writes its wake-up eventfd.
    nonisolated(unsafe) var wakePoller: () -> Void = {}

    func submit(_ work: Work) {
        enum Then { case nothing, queueDrain, wake }
        let then: Then = state.withLock { state in
            state.pending.append(work)
            if state.pollerActive {
                guard state.pollerWaiting else { return .nothing }
                state.pollerWaiting = false
                return .wake
            }
            guard !state.drainQueued else { return .nothing }
            state.drainQueued = true
            return .queueDrain
        }
        switch then {
        case .nothing: break
        case .wake: wakePoller()
        case .queueDrain: Self.queueDrainBlock()
        }
    }

    func submit(_ closure: @escaping () -> Void) { submit(.closure(closure)) }

    /// Runs the work queued so far (not what it queues in turn: that waits for the next batch, so that
    /// a task that keeps yielding cannot starve the sockets). Returns whether more work is waiting.
    @discardableResult
    func runBatch() -> Bool {
        EventLoop.assertOnLoop()
        let batch = state.withLock { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
        for work in batch {
            switch work {
            case .job(let job):
                job.runSynchronously(isolatedTo: LoopActor.executor.asUnownedSerialExecutor(),
                                     taskExecutor: LoopActor.executor.asUnownedTaskExecutor())
            case .closure(let closure): closure()
            }
        }
        return state.withLock { !$0.pending.isEmpty }
    }

    /// One batch per Dispatch block; more work goes behind whatever else the loop queue holds.
    private func runQueuedDrain() {
        runBatch()
        let more = state.withLock { state in
            if state.pending.isEmpty { state.drainQueued = false; return false }
            return true
        }
        if more { Self.queueDrainBlock() }
    }

    /// A Dispatch block on the loop queue that runs one batch (the caller has set `drainQueued`).
    private static func queueDrainBlock() {
        EventLoop.queue.async { LoopRunQueue.shared.runQueuedDrain() }
    }

    // MARK: The poller's side

    func pollerBegins() { state.withLock { $0.pollerActive = true } }

    /// Ends the poller's turn; work still queued goes to a Dispatch block.
    func pollerEnds() {
        let queueDrain = state.withLock { state in
            state.pollerActive = false
            guard !state.pending.isEmpty, !state.drainQueued else { return false }
            state.drainQueued = true
            return true
        }
        if queueDrain { Self.queueDrainBlock() }
    }

    /// Whether the poller may sleep now: false when work is already waiting. On true, work queued
    /// from another thread from now on wakes it.
    func pollerMayWait() -> Bool {
        state.withLock { state in
            guard state.pending.isEmpty else { return false }
            state.pollerWaiting = true
            return true
        }
    }

    func pollerWoke() { state.withLock { $0.pollerWaiting = false } }
}
