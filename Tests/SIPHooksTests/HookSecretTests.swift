import JSONAPI
import HTTPServer
@testable import SIPHooks
import XCTest

final class HookSecretTests: XCTestCase {
    private func request(_ value: String?) -> HTTPRequest {
        HTTPRequest(method: .GET, path: "/hooks/sip/ha1", headers: value.map { ["x-hook-secret": $0] } ?? [:])
    }

    func testOnlyTheExactSecretIsAdmitted() {
        let secret = HookSecret("0123456789abcdef0123456789abcdef-hook")
        XCTAssertTrue(secret.admits(request("0123456789abcdef0123456789abcdef-hook")))
        for wrong in [nil, "", "0123456789abcdef0123456789abcdef-hoo", "0123456789abcdef0123456789abcdef-hook ",
                      "0123456789ABCDEF0123456789ABCDEF-HOOK", " 0123456789abcdef0123456789abcdef-hook"] {
            XCTAssertFalse(secret.admits(request(wrong)), wrong ?? "absent")
        }
        XCTAssertEqual(HookSecret.refused.status, 401)
    }

    func testAnEmptyConfiguredSecretStillNeedsTheHeader() {
        let secret = HookSecret("")
        XCTAssertFalse(secret.admits(request(nil)), "a missing header is never a match")
        XCTAssertTrue(secret.admits(request("")))
    }
}
