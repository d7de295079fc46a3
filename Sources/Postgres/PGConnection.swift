import CLibPQ
import Dispatch
import Loop
#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection driven by the loop (docs/loop-and-c-libraries.md).
///
/// Loop-confined: every method runs on the loop and callbacks are not `@Sendable`. Work runs one item
/// at a time, in order: a single statement in plain mode, or a batch in pipeline mode (one implicit
/// transaction up to its sync, so a batch succeeds or fails as a whole). Every item has a deadline;
/// past it the item fails with `timedOut` and the connection is reset, so nothing ever hangs.
///
/// Single statements with parameters are prepared on first use (prepare and execute go out together,
/// as a pipeline) and executed by name afterwards: PostgreSQL then stops planning them again, which
/// for the hook and publish queries cost more than running them (measured: bench/sip_bench.py).
final class PGConnection: @unchecked Sendable {
    enum Work {
        case single(Statement, (Result<QueryResult, DatabaseError>) -> Void)
        case pipeline([Statement], (Result<[QueryResult], DatabaseError>) -> Void)
    }

    private(set) var isReady = false
    private var connection: OpaquePointer?
    private var watched: WatchedDescriptor?
    private var pendingConnectWait: (any DispatchSourceProtocol)?
    /// A connection closed while a connect step waited on its socket, finished in that wait's cancel
    /// handler (libdispatch keys its registrations by fd: the fd must outlive the source).
    private var finishAfterConnectWait: OpaquePointer?
    private var connectDeadlinePassed = false
    private var connectCompletion: ((Result<Void, DatabaseError>) -> Void)?
    /// Work waiting for its turn: when its caller stops waiting, and whether another connection
    /// may run it (a transaction's statements may not leave theirs).
    struct Queued {
        let work: Work
        let deadline: ContinuousClock.Instant
        let movable: Bool
    }

    /// The most work one connection holds waiting; past it a statement fails at once (503).
    static let maximumQueued = 1000
    private var queued: [Queued] = []
    private lazy var queueExpiry = LoopTimer { [unowned self] in self.expireQueued() }
    /// When ``queueExpiry`` fires; nil when disarmed.
    private var queueExpiryAt: ContinuousClock.Instant?
    private var inFlight: Work?
    /// The statement being prepared by the work in flight: its SQL and name.
    private var preparing: (sql: String, name: String)?
    /// Whether the work in flight went out in pipeline mode: a batch, or a statement being prepared.
    private var inFlightPipelined: Bool {
        if case .pipeline? = inFlight { return true }
        return preparing != nil
    }
    private var inFlightResults: [Result<QueryResult, DatabaseError>] = []
    /// Prepared statements of this connection: SQL to name.
    private var prepared: [String: String] = [:]
    static let maximumPrepared = 256
    private lazy var deadline = LoopTimer { [unowned self] in self.deadlinePassed() }
    private let statementTimeout: Double
    /// Called once when a ready connection breaks or is reset, with the waiting work another
    /// connection may run; the pool replaces the connection and hands that work on.
    var onBroken: ((String, [Queued]) -> Void)?

    init(statementTimeout: Double) { self.statementTimeout = statementTimeout }

    /// Number of work items waiting or running, for picking the least busy connection.
    var load: Int { queued.count + (inFlight == nil ? 0 : 1) }

    // MARK: Connecting

    func connect(_ conninfo: String, timeout: Double, completion: @escaping (Result<Void, DatabaseError>) -> Void) {
        EventLoop.assertOnLoop()
        guard let conn = PQconnectStart(conninfo), PQstatus(conn) != CONNECTION_BAD else {
            completion(.failure(.unavailable("cannot start a connection (out of memory or bad connection string)")))
            return
        }
        PQsetnonblocking(conn, 1)
        // Server notices ("relation already exists, skipping") would go to stderr; they carry nothing we act on.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        connection = conn
        connectCompletion = completion
        deadline.schedule(after: timeout)
        poll(PGRES_POLLING_WRITING)
    }

    private func poll(_ status: PostgresPollingStatusType) {
        guard let conn = connection else { return }
        switch status {
        case PGRES_POLLING_OK:
            deadline.disarm()
            becomeReady(conn)
        case PGRES_POLLING_READING, PGRES_POLLING_WRITING:
            waitOnce(on: PQsocket(conn), forWriting: status == PGRES_POLLING_WRITING)
        default:
            connectFailed(errorMessage())
        }
    }

    /// One readiness wait per connect step. libpq may close and replace the socket between steps, so
    /// the source is cancelled before libpq runs again: `PQconnectPoll` is called from the cancel handler.
    private func waitOnce(on fd: Int32, forWriting: Bool) {
        let source: any DispatchSourceProtocol = forWriting
            ? DispatchSource.makeWriteSource(fileDescriptor: fd, queue: EventLoop.queue)
            : DispatchSource.makeReadSource(fileDescriptor: fd, queue: EventLoop.queue)
        pendingConnectWait = source
        source.setEventHandler { [unowned self] in self.pendingConnectWait?.cancel() }
        source.setCancelHandler { [self] in
            self.pendingConnectWait = nil
            if let closing = self.finishAfterConnectWait {
                // Closed while this step waited: the socket goes only now that its source is gone.
                self.finishAfterConnectWait = nil
                PQfinish(closing)
            } else if self.connectDeadlinePassed {
                self.connectFailed("timed out while connecting")
            } else if let conn = self.connection {
                self.poll(PQconnectPoll(conn))
            }
        }
        source.resume()
    }

    private func connectFailed(_ message: String) {
        deadline.disarm()
        if let conn = connection { PQfinish(conn) }
        connection = nil
        let completion = connectCompletion
        connectCompletion = nil
        completion?(.failure(.unavailable(message)))
    }

    private func becomeReady(_ conn: OpaquePointer) {
        watched = WatchedDescriptor(
            fd: PQsocket(conn),
            onReadable: { [unowned self] in self.readable() },
            onWritable: { [unowned self] in self.flush() })
        isReady = true
        let completion = connectCompletion
        connectCompletion = nil
        completion?(.success(()))
    }

    // MARK: Work

    /// Queues `work`; it waits at most `statementTimeout` for its turn (then it alone fails with
    /// `timedOut`), and at most ``maximumQueued`` items wait at once (past it: `unavailable`, at once).
    func enqueue(_ work: Work, movable: Bool = true) {
        requeue(Queued(work: work, deadline: .now + .nanoseconds(Int64(statementTimeout * 1e9)), movable: movable))
    }

    /// Queues work that keeps its own deadline (handed over from a connection that broke).
    func requeue(_ item: Queued) {
        EventLoop.assertOnLoop()
        guard isReady else { return Self.fail(item.work, .unavailable("not connected")) }
        guard queued.count < Self.maximumQueued else {
            return Self.fail(item.work, .unavailable("the database is busy: \(Self.maximumQueued) statements wait on each connection"))
        }
        queued.append(item)
        startNext()
        // Deadlines grow with arrival, so the timer set for the earliest stays right; only work
        // handed over with an older deadline moves it.
        if !queued.isEmpty, queueExpiryAt.map({ item.deadline < $0 }) ?? true { armQueueExpiry() }
    }

    /// Fails the waiting work whose caller has waited long enough; the connection goes on.
    private func expireQueued() {
        let now = ContinuousClock.now
        let expired = queued.filter { $0.deadline <= now }
        queued.removeAll { $0.deadline <= now }
        expired.forEach { Self.fail($0.work, .timedOut) }
        armQueueExpiry()
    }

    private func armQueueExpiry() {
        guard let earliest = queued.map(\.deadline).min() else {
            queueExpiryAt = nil
            return queueExpiry.disarm()
        }
        queueExpiryAt = earliest
        queueExpiry.schedule(after: max(0, (earliest - .now).seconds))
    }

    private func startNext() {
        guard isReady, inFlight == nil, !queued.isEmpty, let conn = connection else { return }
        let work = queued.removeFirst().work
        inFlight = work
        inFlightResults = []
        let sent: Bool
        preparing = nil
        switch work {
        case .single(let statement, _):
            if let name = prepared[statement.sql] {
                sent = sendPrepared(name, statement, on: conn)
            } else if !statement.parameters.isEmpty, prepared.count < Self.maximumPrepared {
                // Names exist on the server exactly for the entries of `prepared` (recorded once the
                // prepare succeeds), so the next free one is derived from its size.
                let name = "s\(prepared.count + 1)"
                preparing = (statement.sql, name)
                sent = PQenterPipelineMode(conn) == 1
                    && PQsendPrepare(conn, name, statement.sql, Int32(statement.parameters.count), nil) == 1
                    && sendPrepared(name, statement, on: conn)
                    && PQpipelineSync(conn) == 1
            } else {
                sent = send(statement, on: conn)
            }
        case .pipeline(let statements, _):
            sent = PQenterPipelineMode(conn) == 1
                && statements.allSatisfy { send($0, on: conn) }
                && PQpipelineSync(conn) == 1
        }
        guard sent else { return broken(errorMessage()) }
        deadline.schedule(after: statementTimeout)
        flush()
    }

    private func send(_ statement: Statement, on conn: OpaquePointer) -> Bool {
        withParameters(statement) { PQsendQueryParams(conn, statement.sql, $0, nil, $1, nil, nil, 0) == 1 }
    }

    private func sendPrepared(_ name: String, _ statement: Statement, on conn: OpaquePointer) -> Bool {
        withParameters(statement) { PQsendQueryPrepared(conn, name, $0, $1, nil, nil, 0) == 1 }
    }

    /// libpq reads the parameter strings only during the send call (it copies them into its output
    /// buffer), so copies that live for `body` are enough; strdup because Swift's own conversions
    /// are valid for one call each.
    private func withParameters(_ statement: Statement, _ body: (Int32, [UnsafePointer<CChar>?]) -> Bool) -> Bool {
        let copies = statement.parameters.map { $0.flatMap { strdup($0) } }
        defer { copies.forEach { free($0) } }
        return body(Int32(copies.count), copies.map { UnsafePointer($0) })
    }

    private func flush() {
        guard let conn = connection, isReady else { return }
        switch PQflush(conn) {
        case 0: watched?.setWriteInterest(false)
        case 1: watched?.setWriteInterest(true)
        default: broken(errorMessage())
        }
    }

    private func readable() {
        guard let conn = connection, isReady else { return }
        guard PQconsumeInput(conn) == 1 else { return broken(errorMessage()) }
        while let work = inFlight, PQisBusy(conn) == 0 {
            let result = PQgetResult(conn)
            if !inFlightPipelined {
                guard case .single(_, let completion) = work else { continue }
                guard let result else {
                    let outcome = inFlightResults.first ?? .failure(.unavailable("no result"))
                    finish { completion(outcome) }
                    continue
                }
                inFlightResults.append(QueryResult.from(result))
                PQclear(result)
                continue
            }
            guard let result else { continue }  // the end of one statement's results
            let status = PQresultStatus(result)
            guard status == PGRES_PIPELINE_SYNC else {
                inFlightResults.append(status == PGRES_PIPELINE_ABORTED
                    ? .failure(.server(sqlState: "", message: "aborted by an earlier error in the batch"))
                    : QueryResult.from(result))
                PQclear(result)
                continue
            }
            PQclear(result)
            PQexitPipelineMode(conn)
            let outcome = Self.collect(inFlightResults)
            switch work {
            case .single(_, let completion):
                // Prepare, then execute: the statement's result is the second. The name exists once
                // the prepare succeeded, whatever the execution did.
                if case .success? = inFlightResults.first, let preparing { prepared[preparing.sql] = preparing.name }
                finish { completion(outcome.flatMap { $0.last.map(Result.success) ?? .failure(.unavailable("no result")) }) }
            case .pipeline(_, let completion):
                finish { completion(outcome) }
            }
        }
        if PQisBusy(conn) == 0, inFlight == nil { startNext() }
        flush()
    }

    private static func collect(_ results: [Result<QueryResult, DatabaseError>]) -> Result<[QueryResult], DatabaseError> {
        var values: [QueryResult] = []
        for result in results {
            switch result {
            case .success(let v): values.append(v)
            // The first failure is the real one; statements after it only report "aborted".
            case .failure(let e): return .failure(e)
            }
        }
        return .success(values)
    }

    private func finish(_ deliver: () -> Void) {
        deadline.disarm()
        inFlight = nil
        preparing = nil
        inFlightResults = []
        deliver()
    }

    private func deadlinePassed() {
        if connectCompletion != nil {
            connectDeadlinePassed = true
            if let wait = pendingConnectWait { wait.cancel() } else { connectFailed("timed out while connecting") }
            return
        }
        if let work = inFlight {
            inFlight = nil
            Self.fail(work, .timedOut)
        }
        broken("a statement ran past its \(statementTimeout) s deadline")
    }

    // MARK: Failure and shutdown

    static func fail(_ work: Work, _ error: DatabaseError) {
        switch work {
        case .single(_, let completion): completion(.failure(error))
        case .pipeline(_, let completion): completion(.failure(error))
        }
    }

    /// Fails what was in flight (its fate is unknown) and the waiting work that must stay on this
    /// connection, closes the socket properly, and gives the rest to the pool: one statement
    /// timing out fails only itself.
    private func broken(_ message: String) {
        guard isReady else { return }
        close()
        let inFlightWork = inFlight
        let waiting = queued
        inFlight = nil
        queued = []
        inFlightWork.map { Self.fail($0, .unavailable(message)) }
        waiting.filter { !$0.movable }.forEach { Self.fail($0.work, .unavailable(message)) }
        onBroken?(message, waiting.filter(\.movable))
    }

    /// Closes the connection: sources first, then `PQfinish` in their cancel handler.
    func close() {
        EventLoop.assertOnLoop()
        isReady = false
        deadline.disarm()
        queueExpiry.disarm()
        queueExpiryAt = nil
        prepared = [:]
        let conn = connection
        connection = nil
        connectCompletion = nil
        if let watched {
            watched.close { if let conn { PQfinish(conn) } }
            self.watched = nil
        } else if let wait = pendingConnectWait, let conn {
            finishAfterConnectWait = conn
            wait.cancel()
        } else if let conn {
            PQfinish(conn)
        }
    }

    private func errorMessage() -> String {
        guard let conn = connection, let text = PQerrorMessage(conn) else { return "connection failed" }
        let message = String(cString: text).trimmingTrailingNewlines()
        return message.isEmpty ? "connection failed" : message
    }
}
