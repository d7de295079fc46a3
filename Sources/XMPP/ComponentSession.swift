/// The XEP-0114 session as a state machine, apart from sockets and clocks: events in, actions out.
/// `ComponentConnection` performs the actions; tests drive this type directly.
public struct ComponentSession: Sendable {
    public enum State: Equatable, Sendable {
        /// TCP is being connected.
        case connecting
        /// The stream header was sent; waiting for the server's (with the stream id).
        case awaitingHeader
        /// The handshake digest was sent; waiting for `<handshake/>`.
        case handshaking
        /// Authenticated: stanzas flow.
        case ready
        /// The stream is over (error, close, bad XML); the connection must be dropped.
        case closed(reason: String)
    }

    public enum Action: Equatable, Sendable {
        case send(String)
        case becameReady
        case deliver(XMLElement)
        /// A stanza over the parser's limits was skipped (docs/xmpp.md): worth a log line; if it was
        /// an answer to one of our requests, that request has failed.
        case discarded(XMLElement, reason: String)
        case close(reason: String)
    }

    public let domain: String
    private let secret: String
    public private(set) var state: State = .connecting

    public init(domain: String, secret: String) {
        self.domain = domain
        self.secret = secret
    }

    public mutating func tcpConnected() -> [Action] {
        guard state == .connecting else { return [] }
        state = .awaitingHeader
        return [.send(XEP0114.streamHeader(domain: domain))]
    }

    public mutating func received(_ event: XMLStreamParser.Event) -> [Action] {
        switch (state, event) {
        case (.closed, _):
            return []
        case (_, .failed(let reason)):
            return close("unparseable stream: \(reason)")
        case (_, .streamClosed):
            return close("the server closed the stream")
        case (.awaitingHeader, .streamOpened(let header)):
            guard let id = header[attribute: "id"], !id.isEmpty else { return close("the server's stream header has no id") }
            state = .handshaking
            return [.send(XEP0114.handshake(streamID: id, secret: secret))]
        case (_, .stanza(let element)) where element.name == "error" && element.namespace == XMPPNamespace.streams:
            let condition = element.children.first { $0.namespace == XMPPNamespace.streamErrors }?.name ?? "undefined-condition"
            return close("stream error: \(condition)")
        case (.handshaking, .stanza(let element)) where element.name == "handshake":
            state = .ready
            return [.becameReady]
        case (.ready, .stanza(let element)):
            return [.deliver(element)]
        case (.ready, .discarded(let element, let reason)):
            // A request we could not read still gets an answer, so its sender is not left waiting.
            guard element.name == "iq", element.iqType?.isRequest == true else { return [.discarded(element, reason: reason)] }
            return [.discarded(element, reason: reason),
                    .send(Stanza.error(to: element, StanzaError(.modify, .notAcceptable)).xml())]
        default:
            return close("unexpected \(event) while \(state)")
        }
    }

    private mutating func close(_ reason: String) -> [Action] {
        state = .closed(reason: reason)
        return [.close(reason: reason)]
    }
}
