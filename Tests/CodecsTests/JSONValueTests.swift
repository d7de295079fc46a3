import Codecs
import Foundation
import XCTest

final class JSONValueTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func testParsesEveryKindOfValue() throws {
        let value = try parse(#" {"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00","n":-12.5e1,"i":1700000000,"t":true,"f":false,"z":null,"a":[1,[],{}]} "#)
        XCTAssertEqual(value["s"], .string("a\"b\\c/d\né😀"))
        XCTAssertEqual(value["n"], .number(-125))
        XCTAssertEqual(value["i"]?.int64Value, 1_700_000_000)
        XCTAssertEqual(value["t"], .bool(true))
        XCTAssertEqual(value["f"], .bool(false))
        XCTAssertEqual(value["z"], .null)
        XCTAssertEqual(value["a"], .array([.number(1), .array([]), .object([])]))
        XCTAssertNil(value["missing"])
        XCTAssertNil(JSONValue.number(1.5).int64Value)
    }

    func testRejectsWhatRFC8259Forbids() {
        let invalid = ["", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "NaN", "Infinity", "'a'", "{a:1}",
                       "\"\u{1}\"", "\"\\x\"", "\"\\ud83d\"", "\"\\ud83dx\"", "[1] [2]", "tru", "nul", "1e", "-", "// c\n1",
                       "{\"a\":1 \"b\":2}", "\"abc", "1e400"]
        for text in invalid {
            XCTAssertThrowsError(try parse(text), text.debugDescription)
        }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0xFE, 0x22]), "invalid UTF-8 in a string")
    }

    func testRejectsDuplicateKeysAndDeepNesting() {
        XCTAssertThrowsError(try parse(#"{"sub":"alice","sub":"mallory"}"#)) { error in
            XCTAssertEqual(error as? JSONValue.ParseError, .duplicateKey("sub"))
        }
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        XCTAssertThrowsError(try parse(deep)) { XCTAssertEqual($0 as? JSONValue.ParseError, .tooDeep) }
        XCTAssertNoThrow(try parse(String(repeating: "[", count: 60) + String(repeating: "]", count: 60)))
    }

    func testWriterEscapesAndFoundationReadsItBack() throws {
        let value = JSONValue.object([
            ("quote\"key", .string("line\nbreak\ttab \u{1} \\ / é 😀 </script>")),
            ("numbers", .array([.int(0), .int(-7), .int64(1_700_000_000), .number(2.5)])),
            ("flags", .array([.bool(true), .bool(false), .null])),
        ])
        let text = value.text
        XCTAssertTrue(text.contains(#""line\nbreak\ttab \u0001 \\ / é 😀 </script>""#))
        XCTAssertTrue(text.contains("[0,-7,1700000000,2.5]"))
        let foundation = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(value.bytes)) as? [String: Any])
        XCTAssertEqual(foundation["quote\"key"] as? String, "line\nbreak\ttab \u{1} \\ / é 😀 </script>")
        XCTAssertEqual(try JSONValue.parse(value.bytes), value, "round trip")
    }
}
