@testable import XMPP
import XCTest

final class XEP0133Tests: XCTestCase {
    /// The bytes of the transcript in the ejabberd 23.01 transcript (docs/xmpp.md), with our id.
    func testAddUserRequestMatchesTheVerifiedTranscript() {
        var iq = XEP0133.request(.addUser(jid: "alice@example.com", password: "alicepw"), from: "gateway.example.com", to: "example.com")
        iq[attribute: "id"] = "b1"
        XCTAssertEqual(iq.xml(), "<iq type='set' id='b1' from='gateway.example.com' to='example.com'><command xmlns='http://jabber.org/protocol/commands' node='http://jabber.org/protocol/admin#add-user' action='execute'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/admin</value></field><field var='accountjid'><value>alice@example.com</value></field><field var='password'><value>alicepw</value></field><field var='password-verify'><value>alicepw</value></field></x></command></iq>")
    }

    func testHostileValuesAreEscaped() {
        let iq = XEP0133.request(.changePassword(jid: "bob@example.com", password: "</value><field var='x'>&"), from: "g", to: "s")
        XCTAssertTrue(iq.xml().contains("<value>&lt;/value&gt;&lt;field var='x'&gt;&amp;</value>"))
        XCTAssertEqual(parseStanza(iq.xml()), iq, "the password survives as one value")
        XCTAssertTrue(XEP0133.request(.deleteUser(jid: "carol@example.com"), from: "g", to: "s").xml()
            .contains("<field var='accountjids'><value>carol@example.com</value></field>"))
    }

    func testOutcomesOfTheVerifiedAnswers() {
        XCTAssertEqual(XEP0133.outcome(of: parseStanza("<iq to='gateway.example.com' from='example.com' type='result' id='b1'><command status='completed' sessionid='2026-11-29T06:22:16.498878Z' node='http://jabber.org/protocol/admin#add-user' xmlns='http://jabber.org/protocol/commands'/></iq>")), .completed)
        XCTAssertEqual(XEP0133.outcome(of: parseStanza("<iq type='error' id='b2'><command xmlns='http://jabber.org/protocol/commands' node='n'/><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")), .alreadyExists)
        XCTAssertEqual(XEP0133.outcome(of: parseStanza("<iq type='error' id='b3'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>No hook has processed this command</text></error></iq>")), .notFound)
        XCTAssertEqual(XEP0133.outcome(of: parseStanza("<iq type='error' id='b6'><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")), .failed(StanzaError(.auth, .forbidden)))
        XCTAssertEqual(XEP0133.outcome(of: parseStanza("<iq type='result' id='b7'><command xmlns='http://jabber.org/protocol/commands' status='executing'/></iq>")), .unexpectedAnswer)
    }
}
