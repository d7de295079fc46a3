import Dispatch

/// Executes jobs on ``EventLoop/queue``. It is both the serial executor of ``LoopActor`` and the task
/// executor that every task prefers (see ``spawnOnLoop(_:)``): without that preference, each resumed
/// continuation hops through the global pool and back, about twenty times slower (measured:
/// docs/loop-and-c-libraries.md).
public final class LoopExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    public func enqueue(_ job: consuming ExecutorJob) {
        LoopRunQueue.shared.submit(.job(UnownedJob(job)))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    public func checkIsolated() { EventLoop.assertOnLoop() }
}

/// The global actor of all handler and service code: its executor is the loop queue.
@globalActor
public actor LoopActor {
    public static let shared = LoopActor()
    public static let executor = LoopExecutor()

    public nonisolated var unownedExecutor: UnownedSerialExecutor { Self.executor.asUnownedSerialExecutor() }

    /// Runs `operation` as `@LoopActor` code from a context the compiler cannot prove is on the loop
    /// (a DispatchSource handler, a C callback). Traps if it is not actually on the loop.
    public static func assumeIsolated<T>(_ operation: @LoopActor () throws -> T) rethrows -> T {
        typealias Isolated = @LoopActor () throws -> T
        typealias Plain = () throws -> T
        EventLoop.assertOnLoop()
        return try withoutActuallyEscaping(operation) { isolated in
            try unsafeBitCast(isolated, to: Plain.self)()
        }
    }
}

/// The only way Switchboard starts a task: on the loop, preferring the loop as task executor so
/// that it never leaves the loop thread. Starting a task any other way is a review error.
@discardableResult
public func spawnOnLoop<T: Sendable>(_ body: @escaping @Sendable @LoopActor () async -> T) -> Task<T, Never> {
    Task(executorPreference: LoopActor.executor) { await body() }
}
