import HTTPServer
import XCTest

/// The server's own answers carry no body of its choosing: the responder it is started with shapes
/// them (the API's JSON errors in production); by default they are bare statuses.
final class ServerRefusalTests: XCTestCase {
    func testPlainRefusalsAreBareStatuses() {
        XCTAssertEqual(ServerRefusal.plainText(.notFound), HTTPResponse(status: 404))
        XCTAssertEqual(ServerRefusal.plainText(.methodNotAllowed(allowed: [.GET, .POST])),
                       HTTPResponse(status: 405, headers: [("Allow", "GET, POST")]))
        XCTAssertEqual(ServerRefusal.plainText(.payloadTooLarge(limit: 65536)), HTTPResponse(status: 413, headers: [("Connection", "close")]))
        XCTAssertEqual(ServerRefusal.plainText(.internalError).status, 500)
        XCTAssertEqual(ServerRefusal.plainText(.timedOut), HTTPResponse(status: 503, headers: [("Retry-After", "1")]))
        for refusal in [ServerRefusal.notFound, .methodNotAllowed(allowed: [.GET]), .payloadTooLarge(limit: 1), .internalError, .timedOut] {
            XCTAssertTrue(ServerRefusal.plainText(refusal).body.isEmpty)
        }
    }
}

/// The listeners' connection limits follow the descriptors the process may open (issue 12, item 2).
final class ConnectionLimitTests: XCTestCase {
    func testLimitsFitTheFileLimit() {
        let roomy = HTTPServer.Limits.fitting(fileLimit: 1 << 20)
        XCTAssertEqual([roomy.public.connectionLimit, roomy.internal.connectionLimit], [10_000, 256])
        let small = HTTPServer.Limits.fitting(fileLimit: 1024)
        XCTAssertEqual([small.public.connectionLimit, small.internal.connectionLimit], [576, 192])
        XCTAssertLessThanOrEqual(Int(small.public.connectionLimit + small.internal.connectionLimit) + 256, 1024, "the reserve stays free")
        let tiny = HTTPServer.Limits.fitting(fileLimit: 100)
        XCTAssertEqual([tiny.public.connectionLimit, tiny.internal.connectionLimit], [8, 8], "never zero: the server still answers someone")
    }
}
