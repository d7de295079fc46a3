import CCurl
import CCurlShims
public import Logging
public import Loop
#if canImport(Glibc)
import Glibc
#endif

/// The outbound HTTP/2 client shared by the push providers: libcurl multi with multiplexing,
/// driven by the loop (docs/loop-and-c-libraries.md). One connection per host,
/// streams multiplexed on it; a cap on requests in flight (the rest wait in order); a deadline per
/// request; a connection that fails or gets GOAWAY is replaced by curl on the next request, and one
/// on which a request timed out is shut down (``retireConnections(to:)``), since curl would go on
/// sending every later request into it.
@LoopActor
public final class HTTP2Client {
    public struct Request: Sendable {
        public var url: String
        public var method = "POST"
        public var headers: [(String, String)] = []
        public var body: [UInt8] = []
        public var timeout = 10.0
        /// Waits ahead of every request that is not: when ``HTTP2Client/maximumInFlight`` requests are
        /// out, urgent ones start first (a call push is worthless after its ring window; a message
        /// push can wait a moment).
        public var urgent = false

        public init(url: String, headers: [(String, String)] = [], body: [UInt8] = [], timeout: Double = 10, urgent: Bool = false) {
            self.url = url
            self.headers = headers
            self.body = body
            self.timeout = timeout
            self.urgent = urgent
        }
    }

    public struct Response: Sendable {
        public let status: Int
        /// Lowercased names; only those in ``HTTP2Client/keptHeaders``.
        public let headers: [String: String]
        public let body: [UInt8]
        /// 2 for HTTP/2.
        public let httpVersion: Int
    }

    public enum Failure: Error, Equatable, Sendable {
        /// Connection refused, TLS failure, timeout, reset: transient for a push.
        case transport(String)
    }

    public let maximumInFlight: Int
    private let logger: Logger?

    /// The response headers callers read (the providers: Retry-After, APNs' apns-id); the others are skipped
    /// without building strings.
    public nonisolated static let keptHeaders = ["retry-after", "apns-id"]

    /// Whether the header name `bytes` is `lowercased`, ignoring ASCII case.
    nonisolated static func isHeaderName(_ bytes: UnsafeRawBufferPointer.SubSequence, _ lowercased: String) -> Bool {
        bytes.count == lowercased.utf8.count && zip(bytes, lowercased.utf8).allSatisfy { byte, expected in
            byte == expected || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") && byte | 0x20 == expected)
        }
    }
    private let caFile: String?
    private let multi: UnsafeMutableRawPointer
    private var sockets: [Int32: WatchedDescriptor] = [:]
    private lazy var timer = LoopTimer { [unowned self] in LoopActor.assumeIsolated { self.action(socket: CURL_SOCKET_TIMEOUT, events: 0) } }
    private var inFlight = 0
    /// Transfers in curl's hands.
    private var active: [ObjectIdentifier: Transfer] = [:]
    /// Requests waiting for a place in flight: urgent ones are started first, each queue in order.
    private var waitingUrgent: [Transfer] = []
    private var waiting: [Transfer] = []
    /// Requests started since curl last ran: more than one is a batch, written corked (``cork(_:)``).
    private var startedSinceAction = 0
    /// Connections opened so far (CURLINFO_NUM_CONNECTS summed): for tests and metrics.
    public private(set) var connectionsOpened = 0
    /// Connections shut down because a request on them went unanswered (``retireConnections(to:)``).
    public private(set) var connectionsRetired = 0
    /// The origin ("https://host:port") each of curl's sockets was opened for.
    var socketOrigins: [Int32: String] = [:]

    /// TCP keepalive on provider connections, which sit idle between pushes: a probe after 60 s idle
    /// keeps NAT and load-balancer mappings alive (AWS's NAT gateway forgets an idle flow after 350 s,
    /// silently), and three unanswered probes 10 s apart close a connection whose peer is gone, so
    /// the next push opens a new one instead of waiting out its timeout.
    nonisolated static let keepalive: [(level: Int32, name: Int32, value: Int32)] = [
        (SOL_SOCKET, SO_KEEPALIVE, 1), (Int32(IPPROTO_TCP), TCP_KEEPIDLE, 60),
        (Int32(IPPROTO_TCP), TCP_KEEPINTVL, 10), (Int32(IPPROTO_TCP), TCP_KEEPCNT, 3),
    ]

    /// `caFile`: an extra CA bundle to trust (PUSH_CA_FILE), e.g. the local fakes' test CA.
    public init(maximumInFlight: Int = 1000, caFile: String? = nil, logger: Logger? = nil) {
        Self.initializeLibrary
        self.maximumInFlight = maximumInFlight
        self.caFile = caFile
        self.logger = logger
        multi = curl_multi_init()
        let context = Unmanaged.passUnretained(self).toOpaque()
        shim_multi_setopt_long(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX)
        shim_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 1)
        shim_multi_setopt_socket(multi, socketCallback, context)
        shim_multi_setopt_timer(multi, timerCallback, context)
    }

    private static let initializeLibrary: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Requests in curl's hands, and waiting for a place among them (``maximumInFlight``).
    public var requestCounts: (inFlight: Int, waiting: Int) { (inFlight, waiting.count + waitingUrgent.count) }

    /// Set by ``close()``: the multi handle is gone.
    public private(set) var isClosed = false

    /// Response bodies past this many bytes fail the request: providers answer a few hundred bytes,
    /// and a body without end (a broken or hostile peer) must not grow without bound.
    public nonisolated static let maximumResponseBytes = 64 * 1024

    /// `request.timeout` must leave at least a millisecond: curl reads a timeout of 0 as none at
    /// all, so a request with no time left fails at once instead of waiting forever.
    public func send(_ request: Request) async -> Result<Response, Failure> {
        guard !isClosed else { return .failure(Self.closedFailure) }
        guard request.timeout >= 0.001 else { return .failure(.transport("no time left for the request (timeout \(request.timeout) s)")) }
        return await withCheckedContinuation { continuation in
            let transfer = Transfer(request: request, client: self, continuation: continuation)
            if inFlight < maximumInFlight {
                start(transfer)
            } else if request.urgent {
                waitingUrgent.append(transfer)
            } else {
                waiting.append(transfer)
            }
        }
    }

    private static let closedFailure = Failure.transport("the HTTP/2 client was closed")

    /// Closes every connection and frees curl's state, once, at stop (after delivery has drained):
    /// requests still waiting or in flight fail, and so does every later ``send(_:)``.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        let queued = waitingUrgent + waiting
        waitingUrgent = []
        waiting = []
        for transfer in queued { transfer.continuation.resume(returning: .failure(Self.closedFailure)) }
        for transfer in Array(active.values) { complete(transfer, .failure(Self.closedFailure)) }
        timer.disarm()
        // Closes the cached connections through the close-socket callback, which drops their sources.
        curl_multi_cleanup(multi)
    }

    // MARK: Transfers

    /// One request in curl's hands; kept alive (retained through CURLOPT_PRIVATE) until it is done.
    final class Transfer {
        let request: Request
        let origin: String
        unowned let client: HTTP2Client
        let continuation: CheckedContinuation<Result<Response, Failure>, Never>
        var easy: UnsafeMutableRawPointer?
        var headerList: UnsafeMutablePointer<curl_slist>?
        var responseHeaders: [String: String] = [:]
        var responseBody: [UInt8] = []
        /// The body ran past ``HTTP2Client/maximumResponseBytes`` and the write callback stopped it.
        var bodyTooLarge = false

        init(request: Request, client: HTTP2Client, continuation: CheckedContinuation<Result<Response, Failure>, Never>) {
            self.request = request
            origin = HTTP2Client.origin(request.url)
            self.client = client
            self.continuation = continuation
        }
    }

    private func start(_ transfer: Transfer) {
        guard let easy = curl_easy_init() else {
            return transfer.continuation.resume(returning: .failure(.transport("curl_easy_init failed")))
        }
        transfer.easy = easy
        let request = transfer.request
        // Pointer lifetimes (docs: curl_easy_setopt): string options are copied by curl; the body goes
        // in with COPYPOSTFIELDS (POSTFIELDS would keep the temporary pointer); the header slist is
        // NOT copied, so it lives in `transfer` until curl_easy_cleanup; `transfer` itself is
        // retained for CURLOPT_PRIVATE and released in `finish`.
        shim_easy_setopt_ptr(easy, CURLOPT_URL, request.url)
        shim_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        shim_easy_setopt_long(easy, CURLOPT_PIPEWAIT, 1)
        shim_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        // Push requests and answers are a few hundred bytes: small per-transfer buffers keep memory
        // flat with a thousand transfers in flight (the defaults cost about 80 KiB each).
        shim_easy_setopt_long(easy, CURLOPT_BUFFERSIZE, 4096)
        shim_easy_setopt_long(easy, CURLOPT_UPLOAD_BUFFERSIZE, 16384)
        shim_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
        shim_easy_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, request.method)
        if request.method == "POST" || !request.body.isEmpty {
            shim_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            request.body.withUnsafeBytes { _ = shim_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)) }
        }
        if let caFile { shim_easy_setopt_ptr(easy, CURLOPT_CAINFO, caFile) }
        for (name, value) in request.headers { transfer.headerList = curl_slist_append(transfer.headerList, "\(name): \(value)") }
        // No "Expect: 100-continue" round trip.
        transfer.headerList = curl_slist_append(transfer.headerList, "Expect:")
        shim_easy_setopt_ptr(easy, CURLOPT_HTTPHEADER, transfer.headerList)
        let context = Unmanaged.passRetained(transfer).toOpaque()
        shim_easy_setopt_ptr(easy, CURLOPT_PRIVATE, context)
        shim_easy_setopt_write(easy, bodyCallback, context)
        shim_easy_setopt_header(easy, headerCallback, context)
        shim_easy_setopt_closesocket(easy, closeSocketCallback, Unmanaged.passUnretained(self).toOpaque())
        shim_easy_setopt_sockopt(easy, socketOpenedCallback, context)
        inFlight += 1
        startedSinceAction += 1
        active[ObjectIdentifier(transfer)] = transfer
        curl_multi_add_handle(multi, easy)
    }

    private func finishDone() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let raw = shim_easy_getinfo_private(easy) else { continue }
            let transfer = Unmanaged<Transfer>.fromOpaque(raw).takeUnretainedValue()
            let result = message.pointee.data.result
            guard result == CURLE_OK else {
                let failure = transfer.bodyTooLarge
                    ? Failure.transport("response body over \(Self.maximumResponseBytes) bytes")
                    : Failure.transport(String(cString: curl_easy_strerror(result)))
                complete(transfer, .failure(failure))
                if result == CURLE_OPERATION_TIMEDOUT, transfer.request.timeout >= Self.silenceSeconds {
                    retireConnections(to: transfer.origin)
                }
                // No connection could be made: every transfer waiting to share it would otherwise
                // sit out its timeout (PIPEWAIT with one connection per host). Fail them now too.
                if Self.connectionErrors.contains(result.rawValue) {
                    for other in active.values where other.origin == transfer.origin { complete(other, .failure(failure)) }
                }
                continue
            }
            let response = Response(status: shim_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE), headers: transfer.responseHeaders,
                                    body: transfer.responseBody,
                                    httpVersion: shim_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION) == Int(CURL_HTTP_VERSION_2_0) ? 2 : 1)
            complete(transfer, .success(response))
        }
        while inFlight < maximumInFlight, !waitingUrgent.isEmpty { start(waitingUrgent.removeFirst()) }
        while inFlight < maximumInFlight, !waiting.isEmpty { start(waiting.removeFirst()) }
    }

    /// CURLE codes that mean no connection could be made (nothing was sent).
    private static let connectionErrors: Set<UInt32> = [
        CURLE_COULDNT_RESOLVE_HOST.rawValue, CURLE_COULDNT_CONNECT.rawValue, CURLE_SSL_CONNECT_ERROR.rawValue,
        CURLE_PEER_FAILED_VERIFICATION.rawValue,
    ]

    private func complete(_ transfer: Transfer, _ outcome: Result<Response, Failure>) {
        guard let easy = transfer.easy, active.removeValue(forKey: ObjectIdentifier(transfer)) != nil else { return }
        connectionsOpened += shim_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS)
        curl_multi_remove_handle(multi, easy)
        curl_easy_cleanup(easy)
        curl_slist_free_all(transfer.headerList)
        transfer.easy = nil
        inFlight -= 1
        Unmanaged.passUnretained(transfer).release()  // the reference CURLOPT_PRIVATE held
        transfer.continuation.resume(returning: outcome)
    }

    /// How long a request must have gone unanswered before its connection counts as dead: a short
    /// attempt (the last one before a call's ring window closes) timing out on a slow but healthy
    /// connection must not tear it down, and every request on it with it.
    static let silenceSeconds = 3.0

    /// Shuts down the connection to `origin` after a request on it got no answer in time: a peer that
    /// silently stopped answering (dropped by a middlebox, or APNs not answering streams, as Pushy's
    /// users saw) leaves TCP none the wiser, and curl keeps multiplexing every new request onto that
    /// connection, where each would time out too. `shutdown` rather than `close`: curl reads the end
    /// of the stream, fails the requests still on it (the callers retry them) and closes the socket
    /// itself; the next request opens a new connection.
    private func retireConnections(to origin: String) {
        for (fd, opened) in socketOrigins where opened == origin {
            socketOrigins[fd] = nil
            shutdown(fd, Int32(SHUT_RDWR))
            connectionsRetired += 1
            logger?.warning("provider connection stopped answering: shut down, the next request opens a new one",
                            metadata: ["origin": "\(origin)"])
        }
    }

    /// "https://host:port" of a URL: what one connection serves.
    nonisolated static func origin(_ url: String) -> String {
        let parts = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        return parts.count >= 3 ? parts[0...2].joined(separator: "/") : url
    }

    // MARK: curl's event callbacks

    func action(socket: curl_socket_t, events: Int32) {
        guard !isClosed else { return }
        var running: Int32 = 0
        let batch = startedSinceAction > 1
        startedSinceAction = 0
        if batch { cork(true) }
        curl_multi_socket_action(multi, socket, events, &running)
        if batch { cork(false) }
        finishDone()
    }

    /// Holds back (or lets go of) the TCP segments of every connection while curl writes a batch of
    /// new requests. curl 7.88 writes each request's HEADERS and DATA frames with SSL_write calls of
    /// their own, and on loopback each segment sent runs the receiver's side of TCP and wakes it; a
    /// cork makes the batch leave as a few full segments when it is lifted, right after.
    private func cork(_ on: Bool) {
        var value: Int32 = on ? 1 : 0
        for fd in socketOrigins.keys { setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// curl says what it wants to hear about a socket.
    func watch(_ fd: curl_socket_t, what: Int32) {
        if what == CURL_POLL_REMOVE {
            sockets[fd]?.setReadInterest(false)
            sockets[fd]?.setWriteInterest(false)
            return
        }
        let watched = sockets[fd] ?? {
            let created = WatchedDescriptor(fd: fd, onReadable: { [unowned self] in
                LoopActor.assumeIsolated { self.action(socket: fd, events: CURL_CSELECT_IN) }
            }, onWritable: { [unowned self] in
                LoopActor.assumeIsolated { self.action(socket: fd, events: CURL_CSELECT_OUT) }
            })
            sockets[fd] = created
            return created
        }()
        watched.setReadInterest(what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        watched.setWriteInterest(what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
    }

    /// curl closes a socket: our sources go first, and the fd is closed in their cancel handler.
    func closeSocket(_ fd: curl_socket_t) {
        socketOrigins[fd] = nil
        if let watched = sockets.removeValue(forKey: fd) {
            watched.close { _ = Glibc.close(fd) }
        } else {
            Glibc.close(fd)
        }
    }

    func schedule(milliseconds: Int) {
        if milliseconds < 0 { timer.disarm() } else { timer.schedule(after: Double(milliseconds) / 1000) }
    }
}
