import Foundation
@testable import XMPP
import XCTest

final class XEP0357Tests: XCTestCase {
    private func stanzas(_ fixture: String) throws -> [XMLElement] {
        let url = XMLStreamParserTests.root.appendingPathComponent("fixtures/xmpp/\(fixture)")
        return XMLStreamParser().feed(Array(try Data(contentsOf: url))).compactMap {
            if case .stanza(let element) = $0 { return element } else { return nil }
        }
    }

    func testThePublishOfTheEjabberdTranscript() throws {
        let iq = try XCTUnwrap(try stanzas("push-publish.xml").first { $0.name == "iq" && $0[attribute: "type"] == "set" })
        XCTAssertEqual(XEP0357.publish(in: iq), XEP0357.Publish(
            node: "NODE-alice", secret: "s3cr3t-NODE-alice", sender: "bob@example.com/7568788421170312341315", from: "example.com"))
    }

    func testPublishWithoutOptionsOrSummary() {
        let iq = XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "set"), ("id", "1"), ("from", "example.com"), ("to", "push.example.com")],
                            children: [XMLElement("pubsub", namespace: XEP0357.pubsubNamespace, children: [
                                XMLElement("publish", namespace: XEP0357.pubsubNamespace, attributes: [("node", "n1")], children: [
                                    XMLElement("item", namespace: XEP0357.pubsubNamespace, children: [XMLElement("notification", namespace: XEP0357.namespace)]),
                                ]),
                            ])])
        XCTAssertEqual(XEP0357.publish(in: iq), XEP0357.Publish(node: "n1", secret: nil, sender: nil, from: "example.com"))
        var get = iq
        get[attribute: "type"] = "get"
        XCTAssertNil(XEP0357.publish(in: get))
        XCTAssertNil(XEP0357.publish(in: XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "set")])))
    }

    func testAnswersKeepOrDropTheRegistrationDeliberately() {
        let iq = XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "set"), ("id", "rr-1"), ("from", "example.com"), ("to", "push.example.com")])
        XCTAssertEqual(XEP0357.reply(to: iq, .accepted).xml(), "<iq type='result' id='rr-1' from='push.example.com' to='example.com'/>")
        XCTAssertEqual(Stanza.error(of: XEP0357.reply(to: iq, .unknownNode))?.type, .cancel)
        XCTAssertEqual(Stanza.error(of: XEP0357.reply(to: iq, .unknownNode))?.condition, .itemNotFound)
        XCTAssertEqual(Stanza.error(of: XEP0357.reply(to: iq, .forbidden))?.type, .auth)
        XCTAssertEqual(Stanza.error(of: XEP0357.reply(to: iq, .tryLater))?.type, .wait, "never cancel for a transient problem")
    }
}
