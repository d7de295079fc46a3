public import Loop
public import XMPP

/// Routes each IQ request to the handler registered for its type and payload (the first child's name
/// and namespace), as mellium/xmpp's `mux` does: one registration per payload, a duplicate is a
/// programming error, and disco#info's features are exactly the features of what is registered, so
/// the component never advertises what it does not answer. A request nothing is registered for is
/// answered `service-unavailable` (RFC 6120 §8.4).
@LoopActor
public struct IQRouter {
    /// Answers one request; nil means "not mine after all" (e.g. a pubsub `set` that is not a
    /// publish) and is answered `service-unavailable`.
    public typealias Handler = @LoopActor (XMLElement) async -> XMLElement?

    public struct Payload: Hashable, Sendable {
        public let type: IQType
        public let name: String
        public let namespace: String

        public init(_ type: IQType, _ name: String, namespace: String) {
            self.type = type
            self.name = name
            self.namespace = namespace
        }
    }

    public let identity: XEP0030.Identity
    private var handlers: [Payload: Handler] = [:]
    /// disco#info itself, then the registered features in registration order, each once.
    public private(set) var features = [XEP0030.infoNamespace]
    /// The router answers this one itself, from ``identity`` and ``features``.
    private static let discoInfo = Payload(.get, "query", namespace: XEP0030.infoNamespace)

    /// A router that answers disco#info with `identity` and the registered features.
    public init(identity: XEP0030.Identity) {
        self.identity = identity
    }

    /// Registers `handler` for requests whose payload is `payload`; `feature` (when given) is
    /// advertised in disco#info. Registering a payload twice traps.
    public mutating func register(_ payload: Payload, feature: String?, _ handler: @escaping Handler) {
        precondition(handlers[payload] == nil && payload != Self.discoInfo, "\(payload) registered twice")
        handlers[payload] = handler
        if let feature, !features.contains(feature) { features.append(feature) }
    }

    /// Where a request goes: answered at once (disco#info, or `service-unavailable`), or to a handler.
    public enum Route {
        case answer(XMLElement)
        case handler(Handler)
    }

    /// The route of `request` (an IQ `get` or `set`). Decided synchronously, so that the connection
    /// starts a task only for a request that needs one.
    public func route(_ request: XMLElement) -> Route {
        guard let type = request.iqType, type.isRequest, let child = request.children.first else {
            return .answer(Stanza.error(to: request, .serviceUnavailable))
        }
        let payload = Payload(type, child.name, namespace: child.namespace)
        if payload == Self.discoInfo { return .answer(XEP0030.infoResult(to: request, identity: identity, features: features)) }
        guard let handler = handlers[payload] else { return .answer(Stanza.error(to: request, .serviceUnavailable)) }
        return .handler(handler)
    }

    /// What a handler's nil means.
    public static func declined(_ request: XMLElement) -> XMLElement { Stanza.error(to: request, .serviceUnavailable) }
}
