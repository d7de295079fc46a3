public import XMPP
public import Logging
public import Loop
#if canImport(Glibc)
import Glibc
#endif

/// One XEP-0114 component connection on the loop: connects, handshakes, answers requests through its
/// ``router`` (disco#info and XEP-0199 pings always), tracks its own IQ requests with timeouts, pings
/// the server to detect a dead peer, and reconnects forever.
@LoopActor
public final class ComponentConnection: Service {
    public struct Settings: Sendable {
        public var host: String
        public var port: UInt16
        public var domain: String
        public var secret: String
        /// The XMPP server's domain: where pings go.
        public var serverDomain: String
        public var pingInterval = 30.0
        public var requestTimeout = 5.0

        public init(host: String, port: UInt16, domain: String, secret: String, serverDomain: String) {
            self.host = host
            self.port = port
            self.domain = domain
            self.secret = secret
            self.serverDomain = serverDomain
        }
    }

    public enum RequestError: Error, Equatable, Sendable {
        case notConnected, timedOut, disconnected
        /// The answer came, but over the parser's limits (e.g. a member list past 64 KiB): skipped.
        case answerTooLarge
    }

    /// Answers the IQ requests (get/set) sent to this component. Register handlers before ``start()``.
    public var router: IQRouter

    /// Called each time the stream becomes ready (after every reconnect too).
    public var onReady: (@LoopActor () -> Void)?

    public let settings: Settings
    public private(set) var isReady = false
    /// Ids of our own pings to our own domain that came back to this connection (see ``probeDomainOwnership(probes:)``).
    private var ownPingsSeen: Set<String> = []
    private let logger: Logger
    private var session: ComponentSession
    private var parser = XMLStreamParser()
    private var fd: Int32 = -1
    private var watched: WatchedDescriptor?
    private var connecting = false
    private var outbox: [UInt8] = []
    private var inbox = [UInt8](repeating: 0, count: 65536)
    /// When to try again after the connection is lost: at once the first time, then exponentially up
    /// to 2 s (while the push domain is down, ejabberd deletes the push registration of every user it
    /// tries to notify, docs/xmpp.md).
    private var backoff = Backoff(initial: 0.1, cap: 2, firstRetryImmediate: true)
    private var stopped = false
    /// Requests waiting for their answer, by id, with the JID they went to: only that JID may answer.
    private var pending: [String: (continuation: CheckedContinuation<XMLElement, any Error>, timer: LoopTimer, peer: String?)] = [:]
    private var nextID = 0
    private let idPrefix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    private lazy var reconnectTimer = LoopTimer { [unowned self] in LoopActor.assumeIsolated { self.connect() } }
    private lazy var pingTimer = LoopTimer { [unowned self] in LoopActor.assumeIsolated { self.ping() } }
    private var consecutiveFailures = 0

    public init(settings: Settings, identity: XEP0030.Identity, logger: Logger) {
        self.settings = settings
        self.logger = logger
        session = ComponentSession(domain: settings.domain, secret: settings.secret)
        router = IQRouter(identity: identity)
        router.register(IQRouter.Payload(.get, "ping", namespace: XEP0199.namespace), feature: XEP0199.namespace) { [weak self] ping in
            self?.notePing(ping)
            return Stanza.result(to: ping)
        }
    }

    public var serviceName: String { "xmpp component \(settings.domain)" }

    public func start() { connect() }

    /// Closes the stream cleanly (`</stream:stream>`) and stops reconnecting.
    public func stop() {
        stopped = true
        reconnectTimer.disarm()
        pingTimer.disarm()
        if isReady { write(XEP0114.streamClose) }
        drop(reason: "stopping", reconnect: false)
    }

    /// Sends an IQ request and waits for its result or error (an error IQ is returned, not thrown).
    public func request(_ iq: XMLElement) async throws -> XMLElement {
        var iq = iq
        iq[attribute: "id"] = nextRequestID()
        return try await send(request: iq)
    }

    private func nextRequestID() -> String {
        nextID += 1
        return "\(idPrefix)-\(nextID)"
    }

    private func send(request iq: XMLElement) async throws -> XMLElement {
        guard isReady else { throw RequestError.notConnected }
        let id = iq[attribute: "id"] ?? ""
        return try await withCheckedThrowingContinuation { continuation in
            let timer = LoopTimer { [unowned self] in
                LoopActor.assumeIsolated { self.pending.removeValue(forKey: id)?.continuation.resume(throwing: RequestError.timedOut) }
            }
            timer.schedule(after: settings.requestTimeout)
            pending[id] = (continuation, timer, iq[attribute: "to"])
            send(iq)
        }
    }

    public func send(_ stanza: XMLElement) { write(stanza.xml()) }

    // MARK: Connection lifecycle

    private func connect() {
        guard !stopped, fd < 0 else { return }
        TCPSocket.resolve(settings.host, port: settings.port) { [weak self] addresses in
            LoopActor.assumeIsolated {
                guard let self, !self.stopped, self.fd < 0 else { return }
                guard let address = addresses.first, let fd = TCPSocket.startConnect(to: address) else {
                    return self.drop(reason: "cannot connect to \(self.settings.host):\(self.settings.port)", reconnect: true)
                }
                self.fd = fd
                self.connecting = true
                self.session = ComponentSession(domain: self.settings.domain, secret: self.settings.secret)
                self.parser = XMLStreamParser()
                self.outbox = []
                self.watched = WatchedDescriptor(fd: fd, onReadable: { [unowned self] in
                    LoopActor.assumeIsolated { self.readable() }
                }, onWritable: { [unowned self] in
                    LoopActor.assumeIsolated { self.writable() }
                })
                self.watched?.setWriteInterest(true)
            }
        }
    }

    private func writable() {
        if connecting {
            connecting = false
            let error = TCPSocket.connectError(fd)
            guard error == 0 else { return drop(reason: TCPSocket.describe(error), reconnect: true) }
            perform(session.tcpConnected())
        }
        flush()
    }

    private func readable() {
        while fd >= 0 {
            let n = inbox.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                for event in parser.feed(inbox[0..<n]) { perform(session.received(event)) }
                continue
            }
            if n == 0 { return drop(reason: "connection closed by the server", reconnect: true) }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            return drop(reason: TCPSocket.describe(errno), reconnect: true)
        }
    }

    private func perform(_ actions: [ComponentSession.Action]) {
        for action in actions {
            switch action {
            case .send(let text): write(text)
            case .becameReady: becameReady()
            case .deliver(let stanza): deliver(stanza)
            case .discarded(let stanza, let reason): discarded(stanza, reason: reason)
            case .close(let reason): drop(reason: reason, reconnect: true)
            }
        }
    }

    private func becameReady() {
        isReady = true
        backoff.succeeded()
        consecutiveFailures = 0
        logger.info("xmpp component connected", metadata: ["domain": "\(settings.domain)"])
        pingTimer.schedule(after: settings.pingInterval)
        onReady?()
    }

    /// Whether another connection to ejabberd serves this component's domain too: true when it
    /// does, false when this one alone does, nil when ejabberd did not answer enough to tell.
    ///
    /// ejabberd spreads the stanzas for a domain over all its connections at random (docs/xmpp.md), so
    /// it sends `probes` pings from our domain to our domain: each comes back to us, unless another
    /// connection gets it; that one answers, and an answer to a ping we never saw proves it exists
    /// (with two connections, all 32 escape that with a chance of about (3/4)^32, 1e-4).
    public func probeDomainOwnership(probes: Int = 32) async -> Bool? {
        let ids = (0..<probes).map { _ in nextRequestID() }
        let answered: Set<String> = await withCheckedContinuation { continuation in
            var pending = ids.count, answered: Set<String> = []
            for id in ids {
                let ping = XEP0199.ping(id: id, from: settings.domain, to: settings.domain)
                spawnOnLoop { [self] in
                    if (try? await send(request: ping)) != nil { answered.insert(id) }
                    pending -= 1
                    if pending == 0 { continuation.resume(returning: answered) }
                }
            }
        }
        let seen = ownPingsSeen.intersection(ids)
        ownPingsSeen.subtract(ids)
        if !answered.subtracting(seen).isEmpty { return true }
        return answered.count == probes && seen.count == probes ? false : nil
    }

    /// Closes the socket properly (sources first), fails every pending request, and schedules a reconnect.
    private func drop(reason: String, reconnect: Bool) {
        let wasReady = isReady
        isReady = false
        connecting = false
        pingTimer.disarm()
        if let watched {
            let closing = fd
            watched.close { close(closing) }
        } else if fd >= 0 {
            close(fd)
        }
        watched = nil
        fd = -1
        let failed = pending
        pending = [:]
        for (_, entry) in failed {
            entry.timer.disarm()
            entry.continuation.resume(throwing: RequestError.disconnected)
        }
        if wasReady || consecutiveFailures % 50 == 0 {
            logger.warning("xmpp component disconnected", metadata: ["domain": "\(settings.domain)", "reason": "\(reason)"])
        }
        consecutiveFailures += 1
        guard reconnect, !stopped else { return }
        reconnectTimer.schedule(after: backoff.nextDelay())
    }

    // MARK: Output

    private func write(_ text: String) {
        guard fd >= 0 else { return }
        outbox.append(contentsOf: text.utf8)
        if !connecting { flush() }
    }

    private func flush() {
        while fd >= 0, !outbox.isEmpty {
            let n = outbox.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                outbox.removeFirst(n)
            } else if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                return drop(reason: TCPSocket.describe(errno), reconnect: true)
            }
        }
        watched?.setWriteInterest(!outbox.isEmpty)
    }

    // MARK: Stanzas

    private func deliver(_ stanza: XMLElement) {
        guard stanza.name == "iq" else { return }  // messages and presence are not addressed to a feature of ours
        switch stanza.iqType {
        case .result?, .error?:
            takeRequest(answeredBy: stanza)?.resume(returning: stanza)
        case .get?, .set?:
            switch router.route(stanza) {
            case .answer(let answer):
                send(answer)
            case .handler(let handler):
                spawnOnLoop { [weak self] in
                    let answer = await handler(stanza)
                    self?.send(answer ?? IQRouter.declined(stanza))
                }
            }
        case nil:
            return
        }
    }

    /// Remembers a ping from our own domain with one of our ids (see ``probeDomainOwnership(probes:)``).
    private func notePing(_ ping: XMLElement) {
        if let id = ping[attribute: "id"], id.hasPrefix(idPrefix + "-"), ping[attribute: "from"] == settings.domain { ownPingsSeen.insert(id) }
    }

    /// Logged at notice, not warning: any user of the XMPP server can send these.
    private func discarded(_ stanza: XMLElement, reason: String) {
        logger.notice("stanza discarded", metadata: [
            "domain": "\(settings.domain)", "reason": "\(reason)", "stanza": "\(stanza.name)",
            "from": "\(stanza[attribute: "from"] ?? "")",
        ])
        guard stanza.name == "iq", stanza.iqType == .result || stanza.iqType == .error else { return }
        takeRequest(answeredBy: stanza)?.resume(throwing: RequestError.answerTooLarge)
    }

    /// The pending request `answer` answers, removed from the table with its timer disarmed. An answer
    /// from anyone but the JID asked (a client guessing the id) is not the answer.
    private func takeRequest(answeredBy answer: XMLElement) -> CheckedContinuation<XMLElement, any Error>? {
        guard let id = answer[attribute: "id"], let asked = pending[id], answer[attribute: "from"] == asked.peer else { return nil }
        pending[id] = nil
        asked.timer.disarm()
        return asked.continuation
    }

    private func ping() {
        guard isReady else { return }
        let ping = XEP0199.ping(id: "", from: settings.domain, to: settings.serverDomain)
        spawnOnLoop { [weak self] in
            do {
                _ = try await self?.request(ping)
                self?.pingTimer.schedule(after: self?.settings.pingInterval ?? 30)
            } catch RequestError.timedOut {
                self?.drop(reason: "no answer to a ping within \(self?.settings.requestTimeout ?? 5) s", reconnect: true)
            } catch {
                // Already disconnected: the reconnect is scheduled.
            }
        }
    }
}
