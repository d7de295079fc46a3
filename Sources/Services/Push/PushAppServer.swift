import Crypto
public import Logging
public import Loop
public import XMPP

/// The XEP-0357 app server (docs/xmpp.md): what a publish from the user's server gets as an answer,
/// decided before any provider is involved, and the message push it queues when accepted.
///
/// ejabberd keeps a user's push registration only on `result`, a `wait` error or no answer, and
/// deletes it on any other error, so only a node that is really gone is answered `cancel`; every
/// transient problem (database down, queue full, a stop under way) is `wait`.
@LoopActor
public final class PushAppServer: Service {
    /// How long a message push is tried (its delivery deadline).
    public static let messageDeadlineSeconds = 60.0

    private let serverDomain: String
    private let store: any PushRegistrationStore
    private let delivery: PushDelivery
    private let logger: Logger
    /// Set by ``stopAccepting()``: every publish is answered `wait` from then on.
    public private(set) var isStopping = false

    /// `serverDomain`: the XMPP domain whose server alone may publish.
    public init(serverDomain: String, store: any PushRegistrationStore, delivery: PushDelivery, logger: Logger) {
        self.serverDomain = serverDomain
        self.store = store
        self.delivery = delivery
        self.logger = logger
    }

    /// The answer to an IQ `set` with a pubsub payload; nil when it is not a publish (the router
    /// answers `service-unavailable`). When the answer is `result`, the push has been queued.
    public func answer(_ iq: XMLElement) async -> XMLElement? {
        guard let publish = XEP0357.publish(in: iq) else { return nil }
        // One async function from here to the lookup (the checks around it are synchronous): every
        // publish in flight holds its task's frames, and one async level less measured 0.6-1.6 MB
        // less RSS with 2,000 publishes in flight (bench/RESULTS.md, "The house").
        var answer: XEP0357.Answer
        if let early = precheck(publish) {
            answer = early
        } else {
            do {
                answer = decide(publish, try await store.registration(forNode: publish.node))
            } catch {
                answer = .tryLater
            }
        }
        return XEP0357.reply(to: iq, answer)
    }

    /// What is decided before the lookup: only the user's server publishes (docs/xmpp.md: a client
    /// that knows its own node and secret must not be able to make us push), and not during a stop.
    private func precheck(_ publish: XEP0357.Publish) -> XEP0357.Answer? {
        guard publish.from == serverDomain else { return .forbidden }
        return isStopping ? .tryLater : nil
    }

    /// The decision once the registration is known; queues the push when it is accepted.
    private func decide(_ publish: XEP0357.Publish, _ registration: NodeRegistration?) -> XEP0357.Answer {
        guard let registration, !registration.tokenDead else { return .unknownNode }
        guard let offered = publish.secret, ConstantTime.equals(offered, registration.secret) else { return .forbidden }
        guard let target = registration.target, delivery.hasRoom(for: target.platform) else { return .tryLater }
        // The stop may have begun while the lookup ran: then the push must not be queued.
        guard !isStopping else { return .tryLater }
        delivery.deliver(Self.messageKind(for: publish), to: target, deadline: Self.messageDeadlineSeconds)
        logger.info("push publish accepted", metadata: ["node": "\(publish.node.prefix(6))…"])
        return .accepted
    }

    /// From now on every publish is answered `wait` (ejabberd keeps the registration and tries
    /// again later, on another instance or after the restart). Part of a graceful stop.
    public func stopAccepting() { isStopping = true }

    // MARK: Service

    public var serviceName: String { "push app server" }
    public func start() {}
    public var isReady: Bool { !isStopping }
    /// Publishes are answered within their own handling; draining only stops accepting new ones.
    public func drain(within seconds: Double) async { stopAccepting() }
    public func stop() { stopAccepting() }

    /// The message push for `publish`: when ejabberd sent the sender (its `include_sender` option),
    /// the sender's bare JID is the push's `sender` and its conversation (the APNs collapse id); a
    /// group message's sender is the room's occupant JID, so the conversation is the room.
    public nonisolated static func messageKind(for publish: XEP0357.Publish) -> PushKind {
        guard let bare = publish.sender.flatMap(JID.init)?.bare.description else { return .message(sender: nil, conversation: nil) }
        return .message(sender: bare, conversation: bare)
    }
}
