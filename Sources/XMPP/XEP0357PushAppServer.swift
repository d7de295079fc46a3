// XEP-0357: Push Notifications — the app server side: what a publish from the user's server says,
// and how to answer it. Verified against ejabberd 23.01: docs/xmpp.md.
public enum XEP0357 {
    public static let namespace = "urn:xmpp:push:0"
    public static let pubsubNamespace = "http://jabber.org/protocol/pubsub"

    /// A publish IQ, reduced to what delivery needs. ejabberd sends no user JID: the node is the key.
    public struct Publish: Equatable, Sendable {
        public let node: String
        /// From the client's publish-options form; nil when the client sent none.
        public let secret: String?
        /// `last-message-sender` of the summary form, when the server includes it.
        public let sender: String?
        /// The server domain the publish came from.
        public let from: String

        public init(node: String, secret: String?, sender: String?, from: String) {
            self.node = node
            self.secret = secret
            self.sender = sender
            self.from = from
        }
    }

    /// The publish in an IQ set, or nil when the IQ is not one.
    public static func publish(in iq: XMLElement) -> Publish? {
        guard iq.iqType == .set,
              let pubsub = iq.child("pubsub", namespace: pubsubNamespace),
              let publish = pubsub.child("publish", namespace: pubsubNamespace),
              let node = publish[attribute: "node"], !node.isEmpty
        else { return nil }
        let summary = publish.child("item", namespace: pubsubNamespace)?.child("notification", namespace: namespace)?.dataForm
        let options = pubsub.child("publish-options", namespace: pubsubNamespace)?.dataForm
        return Publish(node: node, secret: options?.value("secret"), sender: summary?.value("last-message-sender"),
                       from: iq[attribute: "from"] ?? "")
    }

    /// How the app server answers a publish. ejabberd keeps the user's push registration only on a
    /// `result`, a `wait` error or no answer; any other error type deletes it (docs/xmpp.md), so only
    /// a node that is really gone gets `cancel`, and every transient problem gets `wait`.
    public enum Answer: Equatable, Sendable {
        case accepted
        /// Unknown node, or its device token is known dead: ejabberd should forget it.
        case unknownNode
        /// Secret missing or wrong.
        case forbidden
        /// Database down, queue full, internal trouble: ejabberd keeps the registration.
        case tryLater
    }

    public static func reply(to iq: XMLElement, _ answer: Answer) -> XMLElement {
        switch answer {
        case .accepted: return Stanza.result(to: iq)
        case .unknownNode: return Stanza.error(to: iq, StanzaError(.cancel, .itemNotFound))
        case .forbidden: return Stanza.error(to: iq, StanzaError(.auth, .forbidden))
        case .tryLater: return Stanza.error(to: iq, StanzaError(.wait, .resourceConstraint))
        }
    }
}
