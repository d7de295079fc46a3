import Dispatch
public import FoundationEssentials
public import Loop

/// Where the CPU-heavy password work runs (PBKDF2, about a millisecond each): off the loop, on
/// `workers` threads at a lower priority, so a login flood takes at most those cores and the loop
/// keeps its own (measured: bench/login_flood.py).
///
/// Fair: each key (the account a check is for) has its own FIFO, at most one of its checks runs at a
/// time, and the workers take keys in turn. One account's thousand checks then delay another
/// account's login by at most one check per worker, not by a thousand. Bounded: past
/// `maximumWaitingPerKey` for one key, or `maximumWaiting` in all, a check is refused at once
/// (the caller answers 429 with a short Retry-After) instead of queueing without end.
@LoopActor
public final class PasswordCheckQueue {
    public let workers: Int
    public let maximumWaitingPerKey: Int
    public let maximumWaiting: Int

    private typealias Job = @Sendable () -> Void
    private var waiting: [String: [Job]] = [:]
    /// Keys with waiting work, in the order they get their next turn.
    private var turns: [String] = []
    private var runningKeys: Set<String> = []
    /// Checks queued and not yet started.
    public private(set) var waitingCount = 0
    private let queue: DispatchQueue

    public init(workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount - 1), maximumWaitingPerKey: Int = 16, maximumWaiting: Int = 512) {
        self.workers = workers
        self.maximumWaitingPerKey = maximumWaitingPerKey
        self.maximumWaiting = maximumWaiting
        queue = DispatchQueue(label: "switchboard.password-checks", qos: .utility, attributes: .concurrent)
    }

    /// Runs `work` off the loop in `key`'s turn; nil when the queue is full.
    public func run<T: Sendable>(key: String, _ work: @escaping @Sendable () -> T) async -> T? {
        guard waitingCount < maximumWaiting, (waiting[key]?.count ?? 0) < maximumWaitingPerKey else { return nil }
        return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            let job: Job = { continuation.resume(returning: work()) }
            if waiting[key] == nil { turns.append(key) }
            waiting[key, default: []].append(job)
            waitingCount += 1
            startNext()
        }
    }

    /// Starts the next key's oldest job while a worker is free and a key is not already running.
    private func startNext() {
        while runningKeys.count < workers, let index = turns.firstIndex(where: { !runningKeys.contains($0) }) {
            let key = turns.remove(at: index)
            var jobs = waiting[key] ?? []
            let job = jobs.removeFirst()
            waitingCount -= 1
            if jobs.isEmpty { waiting[key] = nil } else { waiting[key] = jobs; turns.append(key) }
            runningKeys.insert(key)
            queue.async { [self] in
                job()
                EventLoop.queue.async { LoopActor.assumeIsolated { self.finished(key) } }
            }
        }
    }

    private func finished(_ key: String) {
        runningKeys.remove(key)
        startNext()
    }
}
