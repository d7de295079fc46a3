import XCTest
import XMPP

final class JIDTests: XCTestCase {
    func testThePartsOfAFullJID() throws {
        let jid = try XCTUnwrap(JID("alice@example.com/phone"))
        XCTAssertEqual(jid.localpart, "alice")
        XCTAssertEqual(jid.domain, "example.com")
        XCTAssertEqual(jid.resource, "phone")
        XCTAssertEqual(jid.bare, JID(localpart: "alice", domain: "example.com"))
        XCTAssertEqual(jid.bare.description, "alice@example.com")
        XCTAssertEqual(jid.description, "alice@example.com/phone")
        XCTAssertFalse(jid.isBare)
    }

    func testDomainOnlyAndDomainWithResource() throws {
        XCTAssertEqual(JID("push.example.com"), JID(localpart: nil, domain: "push.example.com"))
        XCTAssertEqual(JID("example.com/admin")?.resource, "admin")
        XCTAssertNil(JID("example.com/admin")?.localpart)
    }

    /// RFC 7622 §3.2: the resource starts at the first "/", whatever follows (a "/" or an "@" in a
    /// resource is allowed); the localpart ends at the first "@" before it.
    func testSeparatorsSplitAtTheirFirstOccurrence() throws {
        let jid = try XCTUnwrap(JID("room@conference.example.com/nick/with@odd/chars"))
        XCTAssertEqual(jid.localpart, "room")
        XCTAssertEqual(jid.domain, "conference.example.com")
        XCTAssertEqual(jid.resource, "nick/with@odd/chars")
        XCTAssertEqual(jid.description, "room@conference.example.com/nick/with@odd/chars", "round trip")
        XCTAssertEqual(JID("a@b@example.com")?.localpart, "a", "a second @ stays in the domain, which then names no host of ours")
        XCTAssertEqual(JID("a@b@example.com")?.domain, "b@example.com")
    }

    func testEmptyPartsAreInvalid() {
        for text in ["", "@example.com", "alice@", "alice@/phone", "example.com/", "alice@example.com/", "/phone", "@", "/"] {
            XCTAssertNil(JID(text), text)
        }
    }

    func testPartsAreKeptAsWrittenWithoutPreparation() {
        XCTAssertEqual(JID("Alice@Example.COM")?.localpart, "Alice", "stringprep is the caller's, with its own bounds")
        XCTAssertEqual(JID("Alice@Example.COM")?.domain, "Example.COM")
        XCTAssertNotEqual(JID("Alice@example.com"), JID("alice@example.com"))
    }
}
