@testable import XMPP
import XCTest

final class ComponentSessionTests: XCTestCase {
    private let header = XMLElement("stream", namespace: XMPPNamespace.streams, attributes: [("id", "11519548451665730594"), ("from", "gateway.example.com")])

    func testHandshakeThenStanzas() {
        var session = ComponentSession(domain: "gateway.example.com", secret: "gwsecret")
        XCTAssertEqual(session.tcpConnected(), [.send(XEP0114.streamHeader(domain: "gateway.example.com"))])
        XCTAssertEqual(session.received(.streamOpened(header)), [.send("<handshake>a0d9691f84eef21ceafcfaa523bba49e6a7ca2aa</handshake>")])
        XCTAssertEqual(session.state, .handshaking)
        XCTAssertEqual(session.received(.stanza(XMLElement("handshake", namespace: XMPPNamespace.component))), [.becameReady])
        let iq = XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "get"), ("id", "1")])
        XCTAssertEqual(session.received(.stanza(iq)), [.deliver(iq)])
    }

    /// Parser and session together, bytes in, bytes out: a discarded IQ request is answered
    /// modify/not-acceptable from its own addressing; a discarded message is only reported; the
    /// stream goes on.
    func testDiscardedStanzasAreAnsweredAndTheSessionStaysReady() {
        var session = ComponentSession(domain: "push.example.com", secret: "s")
        _ = session.tcpConnected()
        _ = session.received(.streamOpened(header))
        _ = session.received(.stanza(XMLElement("handshake", namespace: XMPPNamespace.component)))
        let deep = String(repeating: "<x xmlns='urn:x'>", count: 40) + String(repeating: "</x>", count: 40)
        let input = "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='1'>"
            + "<iq type='set' id='e1' from='mallory@example.com/r' to='push.example.com'>" + deep + "</iq>"
            + "<message from='mallory@example.com/r' to='push.example.com'>" + deep + "</message>"
            + "<iq type='result' id='r1' from='example.com' to='push.example.com'>" + deep + "</iq>"
            + "<iq type='get' id='after' from='example.com' to='push.example.com'/>"
        for chunk in [1, 7, input.utf8.count] {
            var copy = session
            let parser = XMLStreamParser()
            let bytes = Array(input.utf8)
            var actions: [ComponentSession.Action] = []
            for start in stride(from: 0, to: bytes.count, by: chunk) {
                for event in parser.feed(bytes[start..<min(bytes.count, start + chunk)]) where event != .streamOpened(XMLElement("stream", namespace: XMPPNamespace.streams, attributes: [("id", "1")])) {
                    actions += copy.received(event)
                }
            }
            let reason = "elements nested deeper than 32"
            XCTAssertEqual(actions, [
                .discarded(XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "set"), ("id", "e1"), ("from", "mallory@example.com/r"), ("to", "push.example.com")]), reason: reason),
                .send("<iq type='error' id='e1' from='push.example.com' to='mallory@example.com/r'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"),
                .discarded(XMLElement("message", namespace: XMPPNamespace.component, attributes: [("from", "mallory@example.com/r"), ("to", "push.example.com")]), reason: reason),
                .discarded(XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "result"), ("id", "r1"), ("from", "example.com"), ("to", "push.example.com")]), reason: reason),
                .deliver(XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "get"), ("id", "after"), ("from", "example.com"), ("to", "push.example.com")])),
            ], "chunk \(chunk)")
            XCTAssertEqual(copy.state, .ready)
        }
    }

    func testRefusedHandshakeCloses() {
        var session = ComponentSession(domain: "gateway.example.com", secret: "wrong")
        _ = session.tcpConnected()
        _ = session.received(.streamOpened(header))
        let error = XMLElement("error", namespace: XMPPNamespace.streams, children: [XMLElement("not-authorized", namespace: XMPPNamespace.streamErrors)])
        XCTAssertEqual(session.received(.stanza(error)), [.close(reason: "stream error: not-authorized")])
        XCTAssertEqual(session.received(.streamClosed), [], "nothing after closed")
    }

    func testProtocolViolationsClose() {
        var noID = ComponentSession(domain: "d", secret: "s")
        _ = noID.tcpConnected()
        guard case .close = noID.received(.streamOpened(XMLElement("stream", namespace: XMPPNamespace.streams))).first else { return XCTFail() }

        var early = ComponentSession(domain: "d", secret: "s")
        _ = early.tcpConnected()
        _ = early.received(.streamOpened(header))
        guard case .close = early.received(.stanza(XMLElement("iq", namespace: XMPPNamespace.component))).first else {
            return XCTFail("a stanza before the handshake is a violation")
        }

        var bad = ComponentSession(domain: "d", secret: "s")
        XCTAssertEqual(bad.received(.failed("comment")), [.close(reason: "unparseable stream: comment")])
    }

    func testStanzaBuilders() {
        let request = XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "get"), ("id", "p1"), ("from", "example.com"), ("to", "push.example.com")],
                                 children: [XMLElement("ping", namespace: XEP0199.namespace)])
        XCTAssertEqual(Stanza.result(to: request).xml(), "<iq type='result' id='p1' from='push.example.com' to='example.com'/>")
        let error = Stanza.error(to: request, StanzaError(.cancel, .serviceUnavailable))
        XCTAssertEqual(error.xml(), "<iq type='error' id='p1' from='push.example.com' to='example.com'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        XCTAssertEqual(Stanza.error(of: error)?.condition, .serviceUnavailable)
        let info = XEP0030.infoResult(to: request, identity: .init(category: "pubsub", type: "push", name: "Switchboard"),
                                      features: [XEP0030.infoNamespace, XEP0199.namespace, "urn:xmpp:push:0"])
        XCTAssertEqual(info.child("query")?.children("feature").map { $0[attribute: "var"] }, [XEP0030.infoNamespace, XEP0199.namespace, "urn:xmpp:push:0"])
    }
}
