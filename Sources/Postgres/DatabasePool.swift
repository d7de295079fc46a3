public import Logging
public import Loop

/// A small pool of libpq connections on the loop, the only way Services talk to PostgreSQL.
///
/// - Connects at start and reconnects forever with capped backoff (first retry at once, cap
///   `maxBackoff`), so service resumes by itself within a second of PostgreSQL's return.
/// - While no connection is up, every call fails at once with `unavailable`: callers answer 503
///   `database_unavailable`, never hang.
/// - Plain statements go to the least busy connection; a transaction leases one connection alone.
@LoopActor
public final class DatabasePool: Service {
    public struct Settings: Sendable {
        public var size = 4
        public var connectTimeout = 3.0
        public var statementTimeout = 5.0
        public var maxBackoff = 0.5
        public init() {}
    }

    @LoopActor private final class Slot {
        var connection: PGConnection?
        /// The connection a transaction holds; a lease ends with the connection it was taken on.
        var leaseHolder: PGConnection?
        var backoff: Backoff
        init(maxBackoff: Double) { backoff = Backoff(initial: 0.05, cap: maxBackoff, firstRetryImmediate: true) }
        var leased: Bool { leaseHolder != nil && leaseHolder === connection }
    }

    public let serviceName: String
    private let conninfo: String
    private let settings: Settings
    private let logger: Logger
    private var slots: [Slot] = []
    private var waitingForLease: [CheckedContinuation<Slot?, Never>] = []
    private var closed = false
    private var wasUp = false
    /// Tasks waiting in ``untilAvailable()``.
    private var waitingForConnection: [CheckedContinuation<Void, Never>] = []

    /// `name` says which database in logs ("database pool", "ejabberd database pool").
    public init(conninfo: String, settings: Settings = Settings(), name: String = "database pool", logger: Logger) {
        serviceName = name
        self.conninfo = conninfo
        self.settings = settings
        self.logger = logger
    }

    /// Starts connecting every slot; returns at once. Readiness shows in ``isAvailable``.
    public func start() {
        slots = (0..<settings.size).map { _ in Slot(maxBackoff: settings.maxBackoff) }
        slots.forEach(connect)
    }

    /// The pool's connections by state, for `/metrics`: `ready` (open, shared by statements),
    /// `leased` (held by a transaction) and `down` (connecting, or waiting to reconnect).
    public var connectionStates: (ready: Int, leased: Int, down: Int) {
        let up = slots.filter { $0.connection?.isReady == true }
        let leased = up.filter(\.leased).count
        return (up.count - leased, leased, slots.count - up.count)
    }

    public var isAvailable: Bool { slots.contains { $0.connection?.isReady == true } }

    /// Returns once a connection is up (at once when one is), or when the pool is closed.
    public func untilAvailable() async {
        guard !isAvailable, !closed else { return }
        await withCheckedContinuation { waitingForConnection.append($0) }
    }

    public func close() {
        closed = true
        for slot in slots { slot.connection?.close(); slot.connection = nil }
        waitingForLease.forEach { $0.resume(returning: nil) }
        waitingForLease = []
        resumeConnectionWaiters()
    }

    private func resumeConnectionWaiters() {
        let waiters = waitingForConnection
        waitingForConnection = []
        waiters.forEach { $0.resume() }
    }

    // MARK: Service

    public var isReady: Bool { isAvailable }
    public func stop() { close() }

    // MARK: Statements

    public func query(_ sql: String, _ parameters: [String?] = []) async throws(DatabaseError) -> QueryResult {
        let connection = try leastBusyConnection()
        return try await run(.init(sql, parameters), on: connection, movable: true)
    }

    public func run(_ statement: Statement) async throws(DatabaseError) -> QueryResult {
        try await query(statement.sql, statement.parameters)
    }

    /// Sends the statements in pipeline mode, in one round trip and one implicit transaction.
    public func pipeline(_ statements: [Statement]) async throws(DatabaseError) -> [QueryResult] {
        guard !statements.isEmpty else { return [] }
        let connection = try leastBusyConnection()
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<[QueryResult], DatabaseError>, Never>) in
            connection.enqueue(.pipeline(statements) { c.resume(returning: $0) })
        }
        return try result.get()
    }

    /// Runs `body` inside BEGIN … COMMIT on a connection leased to it alone; rolls back when it throws.
    public func transaction<T>(_ body: (Transaction) async throws -> T) async throws -> T {
        guard isAvailable, let slot = await lease(), let connection = slot.leaseHolder, connection.isReady else {
            throw DatabaseError.unavailable("no database connection")
        }
        defer { release(slot, connection) }
        let transaction = Transaction(connection: connection, pool: self)
        _ = try await run(.init("BEGIN"), on: connection)
        do {
            let value = try await body(transaction)
            _ = try await run(.init("COMMIT"), on: connection)
            return value
        } catch {
            _ = try? await run(.init("ROLLBACK"), on: connection)
            throw error
        }
    }

    /// Statements inside a ``DatabasePool/transaction(_:)``.
    @LoopActor
    public struct Transaction {
        fileprivate let connection: PGConnection
        fileprivate let pool: DatabasePool

        public func query(_ sql: String, _ parameters: [String?] = []) async throws(DatabaseError) -> QueryResult {
            try await pool.run(.init(sql, parameters), on: connection)
        }
    }

    /// `movable`: whether the statement may move to another connection if this one breaks while it
    /// waits (a transaction's statements may not).
    fileprivate func run(_ statement: Statement, on connection: PGConnection, movable: Bool = false) async throws(DatabaseError) -> QueryResult {
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<QueryResult, DatabaseError>, Never>) in
            connection.enqueue(.single(statement) { c.resume(returning: $0) }, movable: movable)
        }
        return try result.get()
    }

    private func leastBusyConnection() throws(DatabaseError) -> PGConnection {
        let ready = slots.filter { !$0.leased }.compactMap(\.connection).filter(\.isReady)
        guard let best = ready.min(by: { $0.load < $1.load }) else {
            throw .unavailable(isAvailable ? "every connection is in a transaction" : "no database connection")
        }
        return best
    }

    // MARK: Leases

    private func lease() async -> Slot? {
        if let free = slots.first(where: { !$0.leased && $0.connection?.isReady == true }) {
            free.leaseHolder = free.connection
            return free
        }
        guard slots.contains(where: { $0.connection?.isReady == true }) else { return nil }
        return await withCheckedContinuation { waitingForLease.append($0) }
    }

    private func release(_ slot: Slot, _ connection: PGConnection) {
        guard slot.leaseHolder === connection else { return }
        if connection.isReady, !waitingForLease.isEmpty {
            waitingForLease.removeFirst().resume(returning: slot)  // handed over, still leased
        } else {
            slot.leaseHolder = nil
        }
    }

    // MARK: Connecting and reconnecting

    private func connect(_ slot: Slot) {
        guard !closed else { return }
        let connection = PGConnection(statementTimeout: settings.statementTimeout)
        slot.connection = connection
        connection.connect(conninfo, timeout: settings.connectTimeout) { [weak self, weak slot] result in
            LoopActor.assumeIsolated {
                guard let self, let slot else { return }
                self.connected(slot, connection, result)
            }
        }
    }

    private func connected(_ slot: Slot, _ connection: PGConnection, _ result: Result<Void, DatabaseError>) {
        guard !closed, slot.connection === connection else { return connection.close() }
        switch result {
        case .success:
            slot.backoff.succeeded()
            connection.onBroken = { [weak self, weak slot] message, waiting in
                LoopActor.assumeIsolated {
                    guard let self, let slot else {
                        return waiting.forEach { PGConnection.fail($0.work, .unavailable(message)) }
                    }
                    self.lost(slot, message)
                    self.handOn(waiting, message: message)
                }
            }
            if !wasUp { logger.info("database connected", metadata: ["db": "\(DatabaseAddress.redacted(conninfo))"]) }
            wasUp = true
            resumeConnectionWaiters()
        case .failure(let error):
            slot.connection = nil
            if slot.backoff.failures % 50 == 0 {
                logger.warning("database connection failed; retrying", metadata: ["error": "\(error)", "attempt": "\(slot.backoff.failures + 1)"])
            }
            retry(slot)
        }
    }

    /// Work that waited on a connection that broke goes to another, keeping its deadline; with none
    /// ready, it fails as `unavailable`.
    private func handOn(_ waiting: [PGConnection.Queued], message: String) {
        for item in waiting {
            guard let connection = try? leastBusyConnection() else {
                PGConnection.fail(item.work, .unavailable(message))
                continue
            }
            connection.requeue(item)
        }
    }

    private func lost(_ slot: Slot, _ message: String) {
        slot.connection = nil
        slot.leaseHolder = nil
        if !isAvailable {
            wasUp = false
            logger.warning("database connection lost", metadata: ["error": "\(message)"])
            waitingForLease.forEach { $0.resume(returning: nil) }
            waitingForLease = []
        }
        retry(slot)
    }

    /// First retry at once, then doubling from 50 ms up to `maxBackoff`, without jitter (a pool's
    /// slots are few, and PostgreSQL's return should be noticed at once).
    private func retry(_ slot: Slot) {
        let delay = slot.backoff.nextDelay(random: 1)
        let weakSlot = LoopBound(Weak(slot))
        EventLoop.after(seconds: delay) { [weak self] in
            LoopActor.assumeIsolated {
                guard let self, let slot = weakSlot.value.object, slot.connection == nil else { return }
                self.connect(slot)
            }
        }
    }
}

private struct Weak<T: AnyObject> { weak var object: T? ; init(_ o: T) { object = o } }
