import Codecs
import Logging
import Logs
import Synchronization
import XCTest

final class JSONLogHandlerTests: XCTestCase {
    private func captured(_ body: (inout Logger) -> Void) throws -> [JSONValue] {
        let lines = Mutex<[[UInt8]]>([])
        var logger = Logger(label: "switchboard") { label in JSONLogHandler(label: label) { line in lines.withLock { $0.append(line) } } }
        body(&logger)
        return try lines.withLock { $0 }.map { line in
            XCTAssertEqual(line.last, 0x0A, "one object per line")
            XCTAssertFalse(line.dropLast().contains(0x0A), "no newline inside a line")
            return try JSONValue.parse(Array(line.dropLast()))
        }
    }

    func testEachLineIsOneObjectWithTimeLevelMessageAndMetadata() throws {
        let lines = try captured { logger in
            logger[metadataKey: "instance"] = "a"
            logger.info("push sent", metadata: ["device": "d1\n\"quoted\"", "message": "shadowed"])
            logger.debug("not at info")
        }
        XCTAssertEqual(lines.count, 1)
        let line = lines[0]
        XCTAssertEqual(line["level"]?.stringValue, "info")
        XCTAssertEqual(line["label"]?.stringValue, "switchboard")
        XCTAssertEqual(line["message"]?.stringValue, "push sent")
        XCTAssertEqual(line["device"]?.stringValue, "d1\n\"quoted\"", "escaped, and parsed back whole")
        XCTAssertEqual(line["instance"]?.stringValue, "a")
        XCTAssertEqual(line["_message"]?.stringValue, "shadowed", "metadata never overwrites a fixed field")
        let time = try XCTUnwrap(line["time"]?.stringValue)
        XCTAssertNotNil(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/), time)
    }
}
