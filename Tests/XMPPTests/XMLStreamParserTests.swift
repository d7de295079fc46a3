import Foundation
@testable import XMPP
import XCTest

final class XMLStreamParserTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.root.appendingPathComponent("fixtures/xmpp/\(name)")))
    }

    /// Feeds `bytes` in chunks of the given sizes (cycled) and collects every event.
    private func parse(_ bytes: [UInt8], chunks: [Int]) -> [XMLStreamParser.Event] {
        let parser = XMLStreamParser()
        var events: [XMLStreamParser.Event] = []
        var offset = 0, i = 0
        while offset < bytes.count {
            let size = chunks[i % chunks.count]
            events += parser.feed(bytes[offset..<min(bytes.count, offset + size)])
            offset += size
            i += 1
        }
        return events
    }

    private func chunkings() -> [[Int]] {
        var random = SystemRandomNumberGenerator()
        return [[1], [2], [3], [7], [64], [4096], (0..<50).map { _ in Int.random(in: 1...40, using: &random) }]
    }

    func testPushTranscriptInEveryChunking() throws {
        let bytes = try fixture("push-publish.xml")
        let whole = parse(bytes, chunks: [bytes.count])
        XCTAssertEqual(whole.count, 7)  // opened, handshake, 4 stanzas, closed
        guard case .streamOpened(let header) = whole[0] else { return XCTFail("\(whole[0])") }
        XCTAssertEqual(header[attribute: "id"], "42")
        XCTAssertEqual(header[attribute: "xml:lang"], "en")
        guard case .stanza(let iq) = whole[2] else { return XCTFail() }
        XCTAssertEqual(iq.name, "iq")
        XCTAssertEqual(iq.namespace, XMPPNamespace.component)
        let pubsub = try XCTUnwrap(iq.child("pubsub", namespace: "http://jabber.org/protocol/pubsub"))
        XCTAssertEqual(pubsub.child("publish")?[attribute: "node"], "NODE-alice")
        let fields = pubsub.child("publish")?.child("item")?.child("notification", namespace: "urn:xmpp:push:0")?.child("x")?.children("field") ?? []
        XCTAssertEqual(fields.last?.child("value")?.text, "hello 1 & <2> 😀")
        XCTAssertEqual(pubsub.child("publish-options")?.child("x")?.children("field").last?.child("value")?.text, "s3cr3t-NODE-alice")
        XCTAssertEqual(whole.last, .streamClosed)
        for chunks in chunkings() {
            XCTAssertEqual(parse(bytes, chunks: chunks), whole, "chunks \(chunks.prefix(5))")
        }
    }

    func testHandshakeTranscripts() throws {
        let accepted = parse(try fixture("handshake-accepted.xml"), chunks: [1])
        XCTAssertEqual(accepted.count, 2)
        XCTAssertEqual(accepted.last, .stanza(XMLElement("handshake", namespace: XMPPNamespace.component)))
        let refused = parse(try fixture("handshake-refused.xml"), chunks: [3])
        guard case .stanza(let error) = refused[1] else { return XCTFail() }
        XCTAssertEqual(error.name, "error")
        XCTAssertEqual(error.namespace, XMPPNamespace.streams)
        XCTAssertEqual(error.children.first?.name, "not-authorized")
        XCTAssertEqual(refused.last, .streamClosed)
    }

    func testAStanzaIsEmittedOnTheByteThatCompletesIt() {
        let parser = XMLStreamParser()
        _ = parser.feed(Array("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>".utf8))
        let stanza = Array("<iq type='get' id='1'/>".utf8)
        for byte in stanza.dropLast() { XCTAssertEqual(parser.feed([byte]), []) }
        XCTAssertEqual(parser.feed([stanza.last!]).count, 1)
    }

    private static let header = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='1'>"

    /// Feeds a hostile stream in 1-byte and whole chunks: it must fail and emit no stanza.
    private func assertRejected(_ hostile: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        for chunks in [[1], [hostile.utf8.count]] {
            let events = parse(Array(hostile.utf8), chunks: chunks)
            XCTAssertFalse(events.contains { if case .stanza = $0 { return true } else { return false } }, reason, file: file, line: line)
            guard case .failed = events.last else { return XCTFail("\(reason): not rejected: \(events.suffix(2))", file: file, line: line) }
        }
    }

    func testHostileInputIsRejectedWithNothingEmitted() {
        let laughs = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'><!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'><message>&lol3;</message>"
        assertRejected(laughs, "billion laughs")
        assertRejected(Self.header + "<message>&undefined;</message>", "undefined entity")
        assertRejected(Self.header + "<message><!-- hi --></message>", "comment")
        assertRejected(Self.header + "<message><?pi x?></message>", "processing instruction")
        assertRejected(Self.header + "<message></iq>", "tag mismatch")
        assertRejected("<html><body/></html>", "not a stream")
    }

    private static func nested(_ depth: Int, in top: String = "<message to='push.example.com' from='mallory@example.com/x'>", close: String = "</message>") -> String {
        top + String(repeating: "<x xmlns='urn:x'>", count: depth - 1) + String(repeating: "</x>", count: depth - 1) + close
    }

    private static func addressing(_ name: String, _ attributes: [(String, String)]) -> XMLElement {
        XMLElement(name, namespace: XMPPNamespace.component, attributes: attributes.map { (name: $0.0, value: $0.1) })
    }

    /// docs/xmpp.md: a stanza over a limit is skipped, the stream goes on; only its addressing is kept,
    /// so that a discarded IQ can be answered.
    func testStanzasOverALimitAreDiscardedAndTheStreamGoesOn() {
        let big = String(repeating: "a", count: 70 * 1024)
        let stream = Self.header
            + "<iq type='get' id='1'/>"
            + Self.nested(40)                                                     // 40 deep, 600 bytes
            + "<iq type='get' id='2'/>"
            + "<iq type='set' id='big' from='mallory@example.com/x' to='gateway.example.com'><q xmlns='urn:q'>" + big + "</q></iq>"
            + "<iq type='get' id='3'/>"
            + "<message a='" + String(repeating: "b", count: 100_000) + "' id='attr'/>"  // over the limit inside one start tag
            + Self.nested(33, in: "<iq type='set' id='deep' to='push.example.com'>", close: "</iq>")
            + String(repeating: "<a>", count: 1000) + String(repeating: "</a>", count: 1000)
            + "<presence id='4'/>"
            + String(repeating: " ", count: 100_000)                              // whitespace between stanzas counts toward none
            + "<iq type='get' id='5'/>"
            + "</stream:stream>"
        let bytes = Array(stream.utf8)
        let whole = parse(bytes, chunks: [bytes.count])
        let expected: [XMLStreamParser.Event] = [
            .stanza(Self.addressing("iq", [("type", "get"), ("id", "1")])),
            .discarded(Self.addressing("message", [("to", "push.example.com"), ("from", "mallory@example.com/x")]), reason: "elements nested deeper than 32"),
            .stanza(Self.addressing("iq", [("type", "get"), ("id", "2")])),
            .discarded(Self.addressing("iq", [("type", "set"), ("id", "big"), ("from", "mallory@example.com/x"), ("to", "gateway.example.com")]),
                       reason: "stanza larger than 65536 bytes"),
            .stanza(Self.addressing("iq", [("type", "get"), ("id", "3")])),
            .discarded(Self.addressing("message", [("id", "attr")]), reason: "stanza larger than 65536 bytes"),
            .discarded(Self.addressing("iq", [("type", "set"), ("id", "deep"), ("to", "push.example.com")]), reason: "elements nested deeper than 32"),
            .discarded(Self.addressing("a", []), reason: "elements nested deeper than 32"),
            .stanza(Self.addressing("presence", [("id", "4")])),
            .stanza(Self.addressing("iq", [("type", "get"), ("id", "5")])),
            .streamClosed,
        ]
        XCTAssertEqual(Array(whole.dropFirst()), expected)
        for chunks in chunkings() where chunks != [4096] {
            XCTAssertEqual(parse(bytes, chunks: chunks), whole, "chunks \(chunks.prefix(5))")
        }
        XCTAssertEqual(parse(bytes, chunks: [4096, 1, 65536, 3]), whole)
    }

    func testThirtyTwoLevelsAreStillAStanza() {
        let events = parse(Array((Self.header + Self.nested(32)).utf8), chunks: [5])
        guard case .stanza(let message) = events.last else { return XCTFail("\(events)") }
        var depth = 1, element = message
        while let child = element.children.first { depth += 1; element = child }
        XCTAssertEqual(depth, 32)
    }

    func testStanzasBeforeAFailureWereValidAndAreKept() {
        let events = parse(Array((Self.header + "<iq id='1'/><!-- x -->").utf8), chunks: [4096])
        XCTAssertEqual(events.count, 3)
        guard case .stanza = events[1], case .failed = events[2] else { return XCTFail("\(events)") }
    }

    func testAFailedParserStaysFailed() {
        let parser = XMLStreamParser()
        guard case .failed? = parser.feed(Array((Self.header + "<!-- x -->").utf8)).last else { return XCTFail("a comment is refused") }
        XCTAssertEqual(parser.feed(Array("<iq id='2'/>".utf8)), [])
    }

    func testTheByteLimitResetsWithEachStanza() {
        let parser = XMLStreamParser(maximumStanzaBytes: 200)
        _ = parser.feed(Array(Self.header.utf8))
        for i in 0..<100 {
            let events = parser.feed(Array("<iq id='\(i)'><q>\(String(repeating: "x", count: 100))</q></iq>".utf8))
            XCTAssertEqual(events.count, 1, "stanza \(i)")
        }
    }
}

final class XMLSerializerTests: XCTestCase {
    func testEscapesEverythingAndRoundTrips() {
        var iq = XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("type", "set"), ("id", "a'b\"c<d>&"), ("to", "&#38;literal")])
        var query = XMLElement("query", namespace: "http://jabber.org/protocol/muc#owner")
        query.children.append(XMLElement("field", namespace: query.namespace, attributes: [("var", "muc#roomconfig_roomname")],
                                         text: "</field><evil xmlns='x'/>&amp; 😀"))
        iq.children.append(query)
        let xml = iq.xml()
        XCTAssertEqual(xml, "<iq type='set' id='a&apos;b&quot;c&lt;d&gt;&amp;' to='&amp;#38;literal'><query xmlns='http://jabber.org/protocol/muc#owner'><field var='muc#roomconfig_roomname'>&lt;/field&gt;&lt;evil xmlns='x'/&gt;&amp;amp; 😀</field></query></iq>")
        let parser = XMLStreamParser()
        _ = parser.feed(Array("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>".utf8))
        XCTAssertEqual(parser.feed(Array(xml.utf8)), [.stanza(iq)])
    }

    func testAttributeWhitespaceSurvivesNormalization() {
        let element = XMLElement("iq", namespace: XMPPNamespace.component, attributes: [("id", "a\nb\tc")])
        XCTAssertEqual(element.xml(), "<iq id='a&#10;b&#9;c'/>")
        let parser = XMLStreamParser()
        _ = parser.feed(Array("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>".utf8))
        XCTAssertEqual(parser.feed(Array(element.xml().utf8)), [.stanza(element)])
    }

    /// XML 1.0 has no escape for these: each becomes U+FFFD, in text and in attributes, and libxml2
    /// (the same strictness as ejabberd's expat) reads the result back.
    func testCharactersXMLForbidsNeverLeave() {
        let forbidden = (0x00...0x1F).filter { ![0x09, 0x0A, 0x0D].contains($0) }.map { Unicode.Scalar(UInt8($0)) } + ["\u{FFFE}", "\u{FFFF}"]
        for c in forbidden {
            XCTAssertFalse(XMLEscaping.isXMLCharacter(c))
            let raw = "a" + String(c) + "b"
            XCTAssertEqual(XMLEscaping.text(raw), "a\u{FFFD}b", "U+\(String(c.value, radix: 16))")
            XCTAssertEqual(XMLEscaping.attribute(raw), "a\u{FFFD}b")
            let element = XMLElement("message", namespace: XMPPNamespace.component, attributes: [("id", raw)], text: raw)
            let parser = XMLStreamParser()
            _ = parser.feed(Array(Self.streamHeader.utf8))
            XCTAssertEqual(parser.feed(Array(element.xml().utf8)),
                           [.stanza(XMLElement("message", namespace: XMPPNamespace.component, attributes: [("id", "a\u{FFFD}b")], text: "a\u{FFFD}b"))])
        }
        for allowed in ["\u{FFFD}", "\u{E000}", "\u{10FFFF}", "\u{D7FF}", "\u{20}", "é", "😀"] {
            XCTAssertEqual(XMLEscaping.text("x" + allowed), "x" + allowed)
        }
        XCTAssertEqual(XMLEscaping.text("\t\n\r"), "\t\n\r", "tab, newline and carriage return are XML")
    }

    private static let streamHeader = "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>"

    func testHandshakeVector() {
        // From the ejabberd 23.01 transcript: sha1("11519548451665730594" + "gwsecret").
        XCTAssertEqual(XEP0114.handshakeDigest(streamID: "11519548451665730594", secret: "gwsecret"), "a0d9691f84eef21ceafcfaa523bba49e6a7ca2aa")
        XCTAssertEqual(XEP0114.handshake(streamID: "11519548451665730594", secret: "gwsecret"),
                       "<handshake>a0d9691f84eef21ceafcfaa523bba49e6a7ca2aa</handshake>")
        XCTAssertEqual(XEP0114.streamHeader(domain: "gateway.example.com"),
                       "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='gateway.example.com'>")
    }
}
