@testable import Services
import XCTest

final class AccountRulesTests: XCTestCase {
    func testUsernames() {
        XCTAssertEqual(AccountRules.username("alice"), "alice")
        XCTAssertEqual(AccountRules.username("Alice"), "alice", "case folding is the one change allowed")
        XCTAssertNil(AccountRules.username("ﬁx"), "changed by more than case folding")
        XCTAssertNil(AccountRules.username("Ⅸ"), "changed by more than case folding")
        XCTAssertNil(AccountRules.username("a@b"))
        XCTAssertNil(AccountRules.username(""))
        XCTAssertNil(AccountRules.username(String(repeating: "a", count: 65)))
        XCTAssertEqual(AccountRules.username(String(repeating: "a", count: 64))?.count, 64)
        XCTAssertNil(AccountRules.username("<script>"))
    }

    func testLoginNames() {
        XCTAssertEqual(AccountRules.loginName("alice", domain: "example.com"), "alice")
        XCTAssertEqual(AccountRules.loginName("Alice@Example.com", domain: "example.com"), "alice")
        XCTAssertNil(AccountRules.loginName("alice@other.org", domain: "example.com"))
        XCTAssertNil(AccountRules.loginName("a b", domain: "example.com"))
    }

    func testPasswords() {
        XCTAssertEqual(AccountRules.password("correct horse"), "correct horse")
        XCTAssertEqual(AccountRules.password("no\u{A0}break-space"), "no break-space")
        XCTAssertNil(AccountRules.password("short"))
        XCTAssertNil(AccountRules.password(String(repeating: "p", count: 1024)), "over 1023 bytes")
        XCTAssertNotNil(AccountRules.password(String(repeating: "p", count: 1023)))
        XCTAssertNil(AccountRules.password("bell\u{7}bell"), "SASLprep prohibits control characters")
    }

    func testSIPCredentialsAreMD5DigestsOfTheRFC2617Strings() {
        // md5("alice:example.com:secret123") and md5("alice@example.com:example.com:secret123"), from Python's hashlib.
        let sip = SIPCredentials(username: "alice", domain: "example.com", realm: "example.com", password: "secret123")
        XCTAssertEqual(sip.ha1, "3ae1e53dc6c111070001398ec4579ddb")
        XCTAssertEqual(sip.ha1b, "ea3de2d973174e64898f117d5063afe0")
    }
}

final class TextArrayLiteralTests: XCTestCase {
    func testElementsAreQuotedAndEscaped() {
        XCTAssertEqual(GroupService.textArray(["alice", #"a\b"#, #"c""#, #"end\"#]), #"{"alice","a\\b","c\"","end\\"}"#)
        XCTAssertEqual(GroupService.textArray([]), "{}")
    }
}
