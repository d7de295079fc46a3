import HTTPServer
@testable import OperatorAPI
import XCTest

final class AdminTokenTests: XCTestCase {
    private let token = AdminToken("0123456789abcdef0123456789abcdef")

    private func admits(_ authorization: String?) -> Bool {
        token.admits(HTTPRequest(method: .GET, path: "/admin/v1/status", headers: authorization.map { ["Authorization": $0] } ?? [:]))
    }

    func testOnlyTheTokenAsABearerTokenIsAdmitted() {
        XCTAssertTrue(admits("Bearer 0123456789abcdef0123456789abcdef"))
        XCTAssertTrue(admits("bearer 0123456789abcdef0123456789abcdef"), "the scheme is case-insensitive")
        XCTAssertFalse(admits(nil))
        XCTAssertFalse(admits("Bearer "))
        XCTAssertFalse(admits("Bearer 0123456789abcdef0123456789abcdeF"))
        XCTAssertFalse(admits("Bearer 0123456789abcdef0123456789abcdef0"))
        XCTAssertFalse(admits("Basic 0123456789abcdef0123456789abcdef"))
        XCTAssertFalse(admits("0123456789abcdef0123456789abcdef"))
    }

    func testAnAccountIsNamedByUsernameOrBareJID() {
        XCTAssertEqual(OperatorRoutes.accountJID("alice", domain: "example.com"), "alice@example.com")
        XCTAssertEqual(OperatorRoutes.accountJID("Alice@Example.com", domain: "example.com"), "alice@example.com")
        XCTAssertEqual(OperatorRoutes.accountJID("alice@example.com/phone", domain: "example.com"), "alice@example.com")
        XCTAssertNil(OperatorRoutes.accountJID("", domain: "example.com"))
        XCTAssertNil(OperatorRoutes.accountJID("a@b@c", domain: "example.com"))
    }
}
