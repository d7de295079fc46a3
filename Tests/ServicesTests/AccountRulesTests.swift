@testable import Services
import XCTest

final class AccountRulesTests: XCTestCase {
    /// New names are what a SIP URI carries unescaped (issue 12, item 8): the SIP user is the name.
    func testNewUsernamesKeepToUnescapedSIPUserCharacters() {
        XCTAssertEqual(AccountRules.newUsername("Alice.B-2_x"), "alice.b-2_x")
        XCTAssertEqual(AccountRules.newUsername("a!~*()=+$,;?"), "a!~*()=+$,;?")
        for needsEscaping in ["\u{E9}x", "zo\u{EB}", "\u{4E2D}\u{6587}", "a#b", "a%20b", "a[b]", "a`b", "a{b}", "a|b", "a\\b", "a^b"] {
            XCTAssertNil(AccountRules.newUsername(needsEscaping), needsEscaping)
        }
        XCTAssertEqual(AccountRules.username("\u{E9}x"), "\u{E9}x", "an existing account's name is still a name (login, group members)")
    }

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

    /// docs/api.md: a name that NFKC changes is refused, not registered as its composed form
    /// (Swift's `==` would call "e\u{301}x" and "éx" equal).
    func testANameThatNormalisationChangesIsRefused() {
        XCTAssertNil(AccountRules.username("e\u{301}x"))
        XCTAssertEqual(AccountRules.username("\u{E9}x"), "\u{E9}x")
        XCTAssertNil(AccountRules.username("E\u{301}x"))
        XCTAssertEqual(AccountRules.loginName("e\u{301}x", domain: "example.com"), "\u{E9}x", "login finds the composed account")
    }

    /// Input is bounded before stringprep (nodeprep is quadratic: docs/api.md). Soft hyphens are
    /// mapped to nothing by nodeprep, so 512 of them and an "a" would prepare to "a": refused here
    /// only because the bound comes first.
    func testOverlongInputNeverReachesStringprep() {
        let padded = String(repeating: "\u{AD}", count: 512) + "a"
        XCTAssertEqual(padded.utf8.count, 1025)
        XCTAssertNil(AccountRules.loginName(padded, domain: "example.com"))
        XCTAssertNil(AccountRules.loginName(padded + "@example.com", domain: "example.com"))
        XCTAssertNil(AccountRules.localpart(padded))
        let fits = String(repeating: "\u{AD}", count: 511) + "a"
        XCTAssertEqual(AccountRules.loginName(fits, domain: "example.com"), "a", "1023 bytes still reach nodeprep")
        XCTAssertEqual(AccountRules.localpart(fits), "a")
        XCTAssertNil(AccountRules.username(String(repeating: "\u{390}", count: 30_000)))
        XCTAssertNil(AccountRules.password(String(repeating: "\u{390}", count: 30_000)))
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

final class GroupNameTests: XCTestCase {
    /// docs/api.md: 1–100 characters of XML 1.0 text, no control or bidi-override characters.
    func testGroupNames() {
        for good in ["Family", "a", "Ünïcödé 😀 family", String(repeating: "x", count: 100), "👩‍👩‍👧 (ZWJ emoji)", "tab\u{3000}ideographic space"] {
            XCTAssertTrue(GroupService.isValidName(good), good)
        }
        var bad = ["", String(repeating: "x", count: 101), "a\u{1}b", "a\u{0}b", "line\nbreak", "tab\tname", "del\u{7F}", "c1\u{85}",
                   "\u{FFFE}", "\u{FFFF}", "evil\u{202E}txt.exe", "iso\u{2066}late"]
        bad += (0x00...0x1F).map { "x" + String(Unicode.Scalar(UInt8($0))) }
        for name in bad { XCTAssertFalse(GroupService.isValidName(name), name.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " ")) }
    }
}

final class TextArrayLiteralTests: XCTestCase {
    func testElementsAreQuotedAndEscaped() {
        XCTAssertEqual(GroupService.textArray(["alice", #"a\b"#, #"c""#, #"end\"#]), #"{"alice","a\\b","c\"","end\\"}"#)
        XCTAssertEqual(GroupService.textArray([]), "{}")
    }
}
