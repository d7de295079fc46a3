import CMHD
import CMHDShims
public import Logging
public import Loop
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP/1.1 server: libmicrohttpd in external epoll mode, driven by the loop.
///
/// One read source watches MHD's epoll fd and one timer covers MHD's own timeouts; both call
/// `MHD_run`. A `deferred` route suspends its connection while its task runs and resumes it with the
/// response; `MHD_run` is called right after resuming, because MHD's internal wake-up does not make
/// the epoll fd readable for us (docs/loop-and-c-libraries.md).
@LoopActor
public final class HTTPServer: Service {
    public struct Limits: Sendable {
        /// Bodies over this are refused with 413 (docs/api.md).
        public var maximumBodyBytes = 64 * 1024
        /// Open connections at once; past it MHD refuses new ones (below a typical fd limit of 65536).
        public var connectionLimit: UInt32 = 10_000
        /// Per-connection pool for the request line, headers and I/O buffers; bodies are copied out of
        /// it as they arrive, so this bounds header size (about 12 KiB of headers fit). MHD zeroes the
        /// whole pool after every request, so a larger pool costs time on every request (measured:
        /// 32 KiB made memset the largest user-space cost of a small GET).
        public var connectionMemoryBytes = 16 * 1024
        /// A connection idle (or stalled mid-request) this long is closed.
        public var idleTimeoutSeconds: UInt32 = 30
        /// Open connections at once from one client address, 0 for no limit; past it MHD refuses new
        /// ones from that address, so one host cannot take every slot. Off behind a load balancer or
        /// proxy, where every client has the proxy's address.
        public var connectionsPerAddress: UInt32 = 0
        /// A route that has not answered this long after its request arrived whole is answered for it
        /// (503, ``ServerRefusal/timedOut``) and its connection goes back to MHD; whatever the route
        /// answers later is dropped. Routes bound their own I/O (5 s per statement or IQ): this is the
        /// net under them, so no suspended connection is held forever.
        public var requestDeadlineSeconds = 30.0
        /// A request must arrive whole (request line, headers and body) this long after its
        /// connection opened or the previous answer on it went out; else the connection is shut.
        /// MHD's own timeout counts only idle time, so a client sending a byte every few seconds
        /// (slowloris) would otherwise hold its connection forever.
        public var requestReadSeconds = 30.0
        public init() {}

        /// The limits of a public and an internal listener that fit a process allowed `fileLimit`
        /// descriptors, keeping `reserved` of them for everything else (database, streams, provider
        /// connections, timers): a server that ran out of descriptors would fail far from the
        /// connection that took the last one. The internal listener (Kamailio) keeps up to 256; the
        /// public one takes at most 10,000 of the rest.
        public static func fitting(fileLimit: Int, reserved: Int = 256) -> (public: Limits, internal: Limits) {
            let available = max(0, fileLimit - reserved)
            var internalLimits = Limits(), publicLimits = Limits()
            internalLimits.connectionLimit = UInt32(max(8, min(256, available / 4)))
            publicLimits.connectionLimit = UInt32(max(8, min(10_000, available - Int(internalLimits.connectionLimit))))
            return (publicLimits, internalLimits)
        }
    }

    private let host: String
    private let requestedPort: UInt16
    private let router: Router
    private let limits: Limits
    private let refusals: ServerRefusal.Responder
    private let observe: AnswerObserver?
    private let logger: Logger
    private var daemon: OpaquePointer?
    private var epoll: WatchedDescriptor?
    private var timer: LoopTimer?

    /// Told of every answered request (metrics): the route's pattern (`unmatched` for a 404 or 405;
    /// never the path, which would make a label per JID or Call-ID), the method (`OTHER` for one
    /// outside ``HTTPMethod``: a client must not mint labels), the status and the seconds since the
    /// request's headers arrived.
    public typealias AnswerObserver = @Sendable @LoopActor (_ pattern: String, _ method: String, _ status: Int, _ seconds: Double) -> Void

    /// `refusals` shapes what the server answers by itself (404, 405, 413): the API layer's error
    /// bodies; the server knows none. `observe` hears of every answer, as the access line does.
    public init(host: String, port: UInt16, router: Router, limits: Limits = Limits(),
                refusals: @escaping ServerRefusal.Responder = ServerRefusal.plainText,
                observe: AnswerObserver? = nil, logger: Logger) {
        self.host = host
        requestedPort = port
        self.router = router
        self.limits = limits
        self.refusals = refusals
        self.observe = observe
        self.logger = logger
    }

    /// The bound port (useful when started on port 0).
    public private(set) var port: UInt16 = 0

    public enum StartError: Error, CustomStringConvertible {
        case badAddress(String)
        case cannotListen(String, UInt16)
        public var description: String {
            switch self {
            case .badAddress(let host): return "'\(host)' is not an address this machine can listen on"
            case .cannotListen(let host, let port): return "cannot listen on \(host):\(port) (in use, or not permitted)"
            }
        }
    }

    public var serviceName: String { "http server \(host):\(port)" }

    /// Listening.
    public var isReady: Bool { daemon != nil && !draining }

    /// Listens on the host and port given at init (port 0: any free port, see ``port``).
    public func start() throws {
        let port = requestedPort
        guard let address = SocketAddress(host: host, port: port) else { throw StartError.badAddress(host) }
        let context = Unmanaged.passUnretained(self).toOpaque()
        let mhdLimits = shim_mhd_limits(
            connection_limit: limits.connectionLimit,
            connection_memory_limit: limits.connectionMemoryBytes,
            connection_timeout_s: limits.idleTimeoutSeconds,
            per_ip_connection_limit: limits.connectionsPerAddress)
        let started = address.withSockaddr { shim_mhd_start($0, mhdLimits, accessHandler, completedHandler, connectionHandler, logHandler, context) }
        guard let started else { throw StartError.cannotListen(host, port) }
        daemon = started
        self.port = shim_mhd_bound_port(started)
        timer = LoopTimer { [unowned self] in LoopActor.assumeIsolated { self.run() } }
        epoll = WatchedDescriptor(fd: shim_mhd_epoll_fd(started), onReadable: { [unowned self] in
            LoopActor.assumeIsolated { self.run() }
        })
        run()
    }

    /// Requests that carry a body or run async work, from their headers until MHD is done with them.
    public private(set) var exchangesInFlight = 0 {
        didSet { if exchangesInFlight == 0 { releaseDrainWaiters() } }
    }
    private var draining = false
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []

    /// For a graceful stop: closes the listening socket at once (new connections are refused, so a
    /// load balancer or Kamailio's dispatcher moves on), keeps serving the connections already open,
    /// and returns once no request is in flight or after `seconds`.
    public func drain(within seconds: Double) async {
        guard let daemon, !draining else { return }
        draining = true
        let listener = MHD_quiesce_daemon(daemon)
        if listener >= 0 { close(listener) }
        guard exchangesInFlight > 0 else { return }
        let deadline = LoopTimer { [weak self] in LoopActor.assumeIsolated { self?.releaseDrainWaiters() } }
        deadline.schedule(after: seconds)
        await withCheckedContinuation { drainWaiters.append($0) }
        deadline.disarm()
    }

    private func releaseDrainWaiters() {
        let waiters = drainWaiters
        drainWaiters = []
        waiters.forEach { $0.resume() }
    }

    /// Stops listening and closes every connection.
    public func stop() {
        releaseDrainWaiters()
        guard let daemon else { return }
        self.daemon = nil
        timer?.disarm()
        deadlineTimer?.disarm()
        suspendedExchanges = [:]
        openConnections = [:]
        let box = LoopBound(daemon)
        epoll?.close { MHD_stop_daemon(box.value) }
        epoll = nil
    }

    /// Lets MHD do all the work that is ready, then re-arms the timer for MHD's next timeout.
    func run() {
        guard let daemon else { return }
        MHD_run(daemon)
        var milliseconds: UInt64 = 0
        if MHD_get_timeout(daemon, &milliseconds) == MHD_Result.YES {
            timer?.schedule(after: Double(milliseconds) / 1000)
        } else {
            timer?.disarm()
        }
    }

    // MARK: Requests

    /// MHD's access handler: called once with the headers, once per body chunk, once at the end,
    /// and once more after a suspended connection is resumed.
    func handle(_ connection: OpaquePointer, url: String, method: String,
                uploadData: UnsafePointer<CChar>?, uploadSize: UnsafeMutablePointer<Int>,
                state: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {
        guard let raw = state.pointee else { return firstCall(connection, url: url, method: method, state: state) }
        if let route = Self.routeMarked(raw) {
            return answerWithoutBody(connection, url: url, method: method, route: route, state: state)
        }
        let exchange = Unmanaged<Exchange>.fromOpaque(raw).takeUnretainedValue()
        if uploadSize.pointee > 0 {
            let size = uploadSize.pointee
            uploadSize.pointee = 0
            exchange.receivedBytes += size
            guard !exchange.answered else { return MHD_Result.YES }  // discarding the rest of a refused body
            guard exchange.receivedBytes <= limits.maximumBodyBytes else {
                // A body without Content-Length ran over the limit. MHD can queue a response only
                // before or after the body, so discard the rest and answer 413 at its end; a client
                // that keeps sending far past the limit is cut off instead.
                if exchange.receivedBytes > 16 * limits.maximumBodyBytes { return MHD_Result.NO }
                exchange.body = []
                exchange.response = refusals(.payloadTooLarge(limit: limits.maximumBodyBytes))
                return MHD_Result.YES
            }
            uploadData.map { exchange.body.append(contentsOf: UnsafeRawBufferPointer(start: $0, count: size)) }
            return MHD_Result.YES
        }
        stopsReading(connection)  // the request is in whole
        if let response = exchange.response { return answer(response, to: exchange, on: connection) }
        guard !exchange.started else { return MHD_Result.YES }
        let outcome = RequestID.$current.withValue(exchange.requestID) { exchange.dispatch(refusals) }
        return perform(outcome, for: exchange, on: connection)
    }

    /// Queues an answer now, or suspends the connection while `work` runs and resumes it with the
    /// answer, which MHD then collects from the exchange on its next call.
    private func perform(_ outcome: RouteOutcome, for exchange: Exchange, on connection: OpaquePointer) -> MHD_Result {
        switch outcome {
        case .answered(let response):
            return answer(response, to: exchange, on: connection)
        case .running(let work):
            exchange.started = true
            MHD_suspend_connection(connection)
            let suspended = LoopBound(connection)
            watchDeadline(of: exchange, suspended)
            // The task inherits the request id, and so does every task it starts.
            RequestID.$current.withValue(exchange.requestID) { _ = spawnOnLoop { [self] in
                let response = await work()
                guard exchange.response == nil, daemon != nil else { return }  // the deadline answered for it
                suspendedExchanges[ObjectIdentifier(exchange)] = nil
                exchange.response = response
                MHD_resume_connection(suspended.value)
                self.run()
            } }
            return MHD_Result.YES
        }
    }

    /// A suspended request waiting for its route, and when the server answers for it.
    private struct Suspended {
        let exchange: Exchange
        let connection: LoopBound<OpaquePointer>
        let due: UInt64
    }
    /// Every request whose route is still running, by exchange.
    private var suspendedExchanges: [ObjectIdentifier: Suspended] = [:]
    /// Every open connection (from MHD's "started" to its "closed" notice), with the time by which
    /// its request must be in whole, nil while it is not reading one. Only connections listed here
    /// are ever shut, so a notice MHD sends after closing cannot reach a freed connection.
    private var openConnections: [OpaquePointer: UInt64?] = [:]
    /// One timer for all deadlines (not a timer descriptor per request), firing at the earliest due
    /// time but at most every quarter second, so a sweep over the tables stays cheap.
    private var deadlineTimer: LoopTimer?
    private var deadlineTimerDue: UInt64?

    private func watchDeadline(of exchange: Exchange, _ connection: LoopBound<OpaquePointer>) {
        let due = EventLoop.coarseMonotonicNanoseconds() + UInt64(limits.requestDeadlineSeconds * 1e9)
        suspendedExchanges[ObjectIdentifier(exchange)] = Suspended(exchange: exchange, connection: connection, due: due)
        armDeadlineTimer(for: due)
    }

    func connectionOpened(_ connection: OpaquePointer) {
        openConnections[connection] = .some(nil)
        startsReading(connection)
    }

    /// A connection opened, or answered its request and may carry another. A "completed" notice
    /// for a connection already closed finds it unlisted and is ignored.
    func startsReading(_ connection: OpaquePointer) {
        guard daemon != nil, openConnections[connection] != nil else { return }
        let due = EventLoop.coarseMonotonicNanoseconds() + UInt64(limits.requestReadSeconds * 1e9)
        openConnections[connection] = .some(due)
        armDeadlineTimer(for: due)
    }

    func connectionClosed(_ connection: OpaquePointer) { openConnections[connection] = nil }

    /// The request on `connection` is in whole: its read deadline no longer applies.
    func stopsReading(_ connection: OpaquePointer) {
        if openConnections[connection] != nil { openConnections[connection] = .some(nil) }
    }

    private func armDeadlineTimer(for due: UInt64) {
        if let armed = deadlineTimerDue, armed <= due { return }
        if deadlineTimer == nil {
            deadlineTimer = LoopTimer { [weak self] in LoopActor.assumeIsolated { self?.enforceDeadlines() } }
        }
        let now = EventLoop.coarseMonotonicNanoseconds()
        let wait = max(due > now ? due - now : 0, 250_000_000)
        deadlineTimer?.schedule(after: Double(wait) / 1e9)
        deadlineTimerDue = now + wait
    }

    /// Answers every overdue request with ``ServerRefusal/timedOut`` and hands its connection back to
    /// MHD (the route's own answer, when it comes, is dropped), and shuts every connection whose
    /// request has not arrived whole in time.
    private func enforceDeadlines() {
        deadlineTimerDue = nil
        guard daemon != nil else { return }
        let now = EventLoop.coarseMonotonicNanoseconds()
        var next: UInt64?
        for (key, waiting) in suspendedExchanges {
            guard waiting.due <= now else {
                next = min(next ?? waiting.due, waiting.due)
                continue
            }
            suspendedExchanges[key] = nil  // a route that answers removes its entry itself
            logger.warning("request timed out", metadata: ["path": "\(waiting.exchange.path)", "request_id": "\(waiting.exchange.requestID)"])
            waiting.exchange.response = refusals(.timedOut)
            MHD_resume_connection(waiting.connection.value)
        }
        for (connection, due) in openConnections {
            guard let due = due else { continue }
            guard due <= now else {
                next = min(next ?? due, due)
                continue
            }
            openConnections[connection] = .some(nil)
            logger.debug("request not in whole in time; connection shut")
            shim_mhd_shutdown_connection(connection)
        }
        if let next { armDeadlineTimer(for: next) }
        run()
    }

    /// Headers are in. A request with a body, or for a deferred route, gets an ``Exchange`` to collect
    /// the body and run the handler. A request without a body for a fixed or immediate route (or a
    /// 404/405) needs no state: it is marked (``marker(route:)``) and answered on MHD's next call.
    /// (Queueing the answer in this first call would make MHD close the connection, since it cannot
    /// tell the body is empty.) A declared body over the limit gets its 413 at once.
    private func firstCall(_ connection: OpaquePointer, url: String, method: String,
                           state: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {
        let httpMethod = HTTPMethod(rawValue: method)
        let match = router.match(httpMethod, url)
        let declaredLength = HTTPRequest.lookup(connection, .HEADER_KIND, "Content-Length").flatMap { Int($0) } ?? 0
        let hasBody = declaredLength > 0 || HTTPRequest.lookup(connection, .HEADER_KIND, "Transfer-Encoding") != nil
        switch match {
        case .found(.fixed, _, let route) where !hasBody, .found(.immediate, _, let route) where !hasBody,
             .found(.adaptive, _, let route) where !hasBody:
            state.pointee = Self.marker(route: route)
            return MHD_Result.YES
        case .notFound where !hasBody, .methodNotAllowed where !hasBody:
            state.pointee = Self.marker(route: nil)
            return MHD_Result.YES
        default:
            let exchange = Exchange(method: httpMethod, path: url, connection: connection, match: match,
                                    requestID: requestID(of: connection), arrived: EventLoop.monotonicNanoseconds())
            state.pointee = Unmanaged.passRetained(exchange).toOpaque()
            exchangesInFlight += 1
            guard let early = Self.earlyError(match, declaredLength: declaredLength, limit: limits.maximumBodyBytes) else {
                return MHD_Result.YES
            }
            exchange.answered = true
            return answer(refusals(early), to: exchange, on: connection)
        }
    }

    private static func earlyError(_ match: Router.Match, declaredLength: Int, limit: Int) -> ServerRefusal? {
        switch match {
        case .notFound: return .notFound
        case .methodNotAllowed(let allowed): return .methodNotAllowed(allowed: allowed)
        case .found: return declaredLength > limit ? .payloadTooLarge(limit: limit) : nil
        }
    }

    /// Answers a request marked in ``firstCall``: `route` is the matched route, or -1 for a 404/405.
    private func answerWithoutBody(_ connection: OpaquePointer, url: String, method: String, route: Int,
                                   state: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {
        stopsReading(connection)
        let arrived = EventLoop.monotonicNanoseconds()
        let id = requestID(of: connection)
        let line = AccessLine(method: method, route: route >= 0 ? route : nil, id: id, arrived: arrived)
        if route >= 0, let httpMethod = HTTPMethod(rawValue: method) {
            switch router.handler(ofRoute: route) {
            case .fixed(let prepared):
                guard let mhdResponse = prepared.mhdResponse(requestID: id) else { return MHD_Result.NO }
                let result = MHD_queue_response(connection, UInt32(prepared.response.status), mhdResponse)
                MHD_destroy_response(mhdResponse)
                answered(line, status: prepared.response.status, connection: connection)
                return result
            case .immediate(let answer):
                var request = HTTPRequest(method: httpMethod, path: url, connection: connection, body: [])
                request.pathParameters = router.parameters(ofRoute: route, path: url)
                return self.answer(RequestID.$current.withValue(id) { answer(request) }, line, on: connection)
            case .adaptive(let decide):
                var request = HTTPRequest(method: httpMethod, path: url, connection: connection, body: [])
                request.pathParameters = router.parameters(ofRoute: route, path: url)
                let outcome = RequestID.$current.withValue(id) { decide(request) }
                if case .answered(let response) = outcome { return answer(response, line, on: connection) }
                // Async after all: from now on the request needs an exchange to hold its answer.
                let exchange = Exchange(method: httpMethod, path: url, connection: connection,
                                        match: .found(router.handler(ofRoute: route), parameters: request.pathParameters, route: route),
                                        requestID: id, arrived: arrived)
                state.pointee = Unmanaged.passRetained(exchange).toOpaque()
                exchangesInFlight += 1
                return perform(outcome, for: exchange, on: connection)
            case .deferred:
                break  // never marked
            }
        }
        let match = router.match(HTTPMethod(rawValue: method), url)
        return answer(refusals(Self.earlyError(match, declaredLength: 0, limit: 0) ?? .internalError), line, on: connection)
    }

    // MARK: Request ids and the access log

    /// What the access line says of a request besides its status.
    private struct AccessLine {
        let method: String
        let route: Int?
        let id: String
        let arrived: UInt64
    }

    private func requestID(of connection: OpaquePointer) -> String {
        RequestID.accept(HTTPRequest.lookup(connection, .HEADER_KIND, "X-Request-ID"))
    }

    private func answer(_ response: HTTPResponse, to exchange: Exchange, on connection: OpaquePointer) -> MHD_Result {
        answer(response, AccessLine(method: exchange.method?.rawValue ?? "?", route: exchange.route, id: exchange.requestID,
                                    arrived: exchange.arrived), on: connection)
    }

    /// Queues `response` with the request's `X-Request-ID` and writes the request's access line.
    private func answer(_ response: HTTPResponse, _ line: AccessLine, on connection: OpaquePointer) -> MHD_Result {
        var response = response
        response.headers.append(("X-Request-ID", line.id))
        let result = queue(response, on: connection)
        answered(line, status: response.status, connection: connection)
        return result
    }

    /// Every answered request ends here: the observer hears of it, and one `info` line says its
    /// method, route pattern (never the path, which may carry a JID or a token), status, duration,
    /// client address and request id (built only when `info` is on: swift-log's arguments are
    /// autoclosures).
    private func answered(_ line: AccessLine, status: Int, connection: OpaquePointer) {
        let nanoseconds = EventLoop.monotonicNanoseconds() &- line.arrived
        let pattern = line.route.map(router.pattern(ofRoute:)) ?? "unmatched"
        observe?(pattern, HTTPMethod(rawValue: line.method)?.rawValue ?? "OTHER", status, Double(nanoseconds) / 1e9)
        logger.info("request", metadata: [
            "method": "\(line.method)",
            "route": "\(pattern)",
            "status": "\(status)",
            "duration_ms": "\(Self.milliseconds(nanoseconds))",
            "client": "\(HTTPRequest.clientAddress(of: connection))",
            "request_id": "\(line.id)",
        ])
    }

    /// Nanoseconds as milliseconds with three decimals: `0.214`.
    static func milliseconds(_ nanoseconds: UInt64) -> String {
        let micros = nanoseconds / 1000
        let fraction = micros % 1000
        return "\(micros / 1000)." + (fraction < 10 ? "00" : fraction < 100 ? "0" : "") + "\(fraction)"
    }

    /// State for a request that needs none of its own (see ``firstCall``): an odd pointer value that
    /// carries the matched route's index (or -1), so the second call need not match again. Real
    /// `Exchange` pointers are aligned, hence even; neither kind of marker is ever dereferenced.
    private static func marker(route: Int?) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: ((route ?? -1) + 1) << 1 | 1)!
    }

    private static func routeMarked(_ state: UnsafeMutableRawPointer) -> Int? {
        let bits = Int(bitPattern: state)
        return bits & 1 == 1 ? (bits >> 1) - 1 : nil
    }

    private func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        guard let mhdResponse = PreparedResponse.makeMHDResponse(response) else { return MHD_Result.NO }
        let result = MHD_queue_response(connection, UInt32(response.status), mhdResponse)
        MHD_destroy_response(mhdResponse)
        return result
    }

    func log(_ message: String) {
        var text = message
        while text.last?.isNewline == true { text.removeLast() }  // MHD ends its messages with a newline
        logger.debug("http: \(text)")
    }

    func completed(_ state: UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
        guard let raw = state.pointee else { return }
        state.pointee = nil
        guard Self.routeMarked(raw) == nil else { return }
        Unmanaged<Exchange>.fromOpaque(raw).release()
        exchangesInFlight -= 1
    }
}
