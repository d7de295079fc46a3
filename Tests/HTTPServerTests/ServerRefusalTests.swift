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
        for refusal in [ServerRefusal.notFound, .methodNotAllowed(allowed: [.GET]), .payloadTooLarge(limit: 1), .internalError] {
            XCTAssertTrue(ServerRefusal.plainText(refusal).body.isEmpty)
        }
    }
}
