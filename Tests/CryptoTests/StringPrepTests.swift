import Crypto
import XCTest

final class StringPrepTests: XCTestCase {
    func testNodeprepVectors() {
        XCTAssertEqual(StringPrep.nodeprep("alice"), "alice")
        XCTAssertEqual(StringPrep.nodeprep("Alice"), "alice", "case folded")
        XCTAssertEqual(StringPrep.nodeprep("ÄLICE"), "älice")
        XCTAssertEqual(StringPrep.nodeprep("ﬁx"), "fix", "ligature folded by NFKC")
        XCTAssertEqual(StringPrep.nodeprep("Ⅸ"), "ix", "roman numeral nine")
        XCTAssertEqual(StringPrep.nodeprep("bob\u{AD}by"), "bobby", "soft hyphen maps to nothing")
        for prohibited in ["a@b", "a/b", "a:b", "a\"b", "a&b", "a'b", "a<b", "a>b", "a b", "a\u{A0}b", "a\u{0}b", "\u{1}"] {
            XCTAssertNil(StringPrep.nodeprep(prohibited), prohibited.debugDescription)
        }
        XCTAssertNil(StringPrep.nodeprep("\u{0221}"), "unassigned in Unicode 3.2: refused for stored strings")
        XCTAssertNil(StringPrep.nodeprep("\u{05D0}a"), "bidi: RandALCat mixed with LCat")
    }

    func testSASLprepVectors() {
        // RFC 4013 §3 examples.
        XCTAssertEqual(StringPrep.saslprep("I\u{AD}X"), "IX", "soft hyphen mapped to nothing")
        XCTAssertEqual(StringPrep.saslprep("user"), "user", "no transformation")
        XCTAssertEqual(StringPrep.saslprep("USER"), "USER", "case preserved")
        XCTAssertEqual(StringPrep.saslprep("\u{AA}"), "a", "NFKC")
        XCTAssertEqual(StringPrep.saslprep("\u{2168}"), "IX", "NFKC")
        XCTAssertNil(StringPrep.saslprep("\u{7}"), "prohibited control character")
        XCTAssertNil(StringPrep.saslprep("\u{627}1"), "bidi check")
        // The reference's passwords: non-ASCII spaces map to U+0020, ligatures fold.
        XCTAssertEqual(StringPrep.saslprep("a\u{A0}b"), "a b")
        XCTAssertEqual(StringPrep.saslprep("Ⅸ-ﬁ"), "IX-fi")
        XCTAssertEqual(StringPrep.saslprep("pässwörd"), "pässwörd")
    }
}
