@testable import XMPP
import XCTest

final class XEP0045Tests: XCTestCase {
    func testCreateRoomIsTheVerifiedOwnerSetWithOurOptions() {
        var iq = XEP0045.createRoom("r1@conference.example.com", name: "Team <&> 'A'", from: "switchboard@gateway.example.com")
        iq[attribute: "id"] = "d9"
        let xml = iq.xml()
        XCTAssertTrue(xml.hasPrefix("<iq type='set' id='d9' from='switchboard@gateway.example.com' to='r1@conference.example.com'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>"))
        XCTAssertTrue(xml.contains("<field var='muc#roomconfig_roomname'><value>Team &lt;&amp;&gt; 'A'</value></field>"), "names are escaped, not injected")
        XCTAssertTrue(xml.contains("<field var='muc#roomconfig_membersonly'><value>1</value></field>"))
        XCTAssertTrue(xml.contains("<field var='muc#roomconfig_moderatedroom'><value>0</value></field>"))
        XCTAssertTrue(xml.contains("<field var='muc#roomconfig_persistentroom'><value>1</value></field>"))
    }

    func testAffiliationsAndDestroy() {
        let set = XEP0045.setAffiliation(.member, of: ["alice@example.com", "bob@example.com"], in: "r@c", from: "g")
        XCTAssertTrue(set.xml().contains("<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' jid='alice@example.com'/><item affiliation='member' jid='bob@example.com'/></query>"))
        XCTAssertTrue(XEP0045.destroyRoom("r@c", from: "g").xml().contains("<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query>"))
        let answer = XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "result")], children: [
            XMLElement("query", namespace: XEP0045.adminNamespace, children: [
                XMLElement("item", namespace: XEP0045.adminNamespace, attributes: [("jid", "alice@example.com"), ("affiliation", "member")]),
                XMLElement("item", namespace: XEP0045.adminNamespace, attributes: [("jid", "dave@example.com"), ("affiliation", "member")]),
            ]),
        ])
        XCTAssertEqual(XEP0045.jids(in: answer), ["alice@example.com", "dave@example.com"])
    }
}
