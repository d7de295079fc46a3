@testable import Services
import XCTest

final class SIPCallTests: XCTestCase {
    private func field(_ result: Result<SIPCall, SIPCall.Invalid>) -> String? {
        if case .failure(let invalid) = result { return invalid.field }
        return nil
    }

    func testAValidCallIsPreparedAndEmptyDisplayNamesDropped() throws {
        let call = try SIPCall.validated(callID: "1-16746@127.0.0.1", caller: "Alice", callerDisplay: "", callee: "Bob").get()
        XCTAssertEqual(call, SIPCall(callID: "1-16746@127.0.0.1", caller: "Alice", callerDisplay: nil, callerAccount: "alice", callee: "bob"))
        let notAnAccount = try SIPCall.validated(callID: "x", caller: "a b\u{0600}", callerDisplay: nil, callee: "bob").get()
        XCTAssertNil(notAnAccount.callerAccount, "a SIP user name that is no account name: nobody reads the call as its caller")
        let named = try SIPCall.validated(callID: "x", caller: "+4930123", callerDisplay: "Zoë <Z&Co>", callee: "bob").get()
        XCTAssertEqual(named.callerDisplay, "Zoë <Z&Co>")
    }

    /// The display name reaches the lock screen: bidi and other format controls are removed.
    func testFormatCharactersAreStrippedFromTheDisplayName() throws {
        let disguised = "Bank\u{202E}gnp.exe\u{202C} \u{2066}Support\u{2069}\u{200B}\u{FEFF}\u{061C}"
        let call = try SIPCall.validated(callID: "c", caller: "mallory", callerDisplay: disguised, callee: "bob").get()
        XCTAssertEqual(call.callerDisplay, "Bankgnp.exe Support")
        let onlyControls = try SIPCall.validated(callID: "c", caller: "mallory", callerDisplay: "\u{202E}\u{200E}", callee: "bob").get()
        XCTAssertNil(onlyControls.callerDisplay, "nothing left: no display name (the caller's name is shown)")
        let emoji = try SIPCall.validated(callID: "c", caller: "a", callerDisplay: "Zoë 👩‍💻", callee: "bob").get()
        XCTAssertEqual(emoji.callerDisplay, "Zoë 👩‍💻", "the zero width joiner of an emoji sequence stays")
    }

    func testEveryFieldIsChecked() {
        let cases: [(String, String, String?, String, String)] = [
            ("", "a", nil, "b", "call_id"),
            ("with space", "a", nil, "b", "call_id"),
            ("tab\there", "a", nil, "b", "call_id"),
            ("é@host", "a", nil, "b", "call_id"),
            (String(repeating: "x", count: 513), "a", nil, "b", "call_id"),
            ("c", "", nil, "b", "caller"),
            ("c", "a\u{0}", nil, "b", "caller"),
            ("c", String(repeating: "a", count: 257), nil, "b", "caller"),
            ("c", "a", "new\nline", "b", "caller_display"),
            ("c", "a", "\u{85}", "b", "caller_display"),
            ("c", "a", String(repeating: "d", count: 257), "b", "caller_display"),
            ("c", "a", nil, "", "callee"),
            ("c", "a", nil, "b@c", "callee"),
            ("c", "a", nil, "b c", "callee"),
            ("c", "a", nil, String(repeating: "b", count: 257), "callee"),
        ]
        for (callID, caller, display, callee, expected) in cases {
            XCTAssertEqual(field(SIPCall.validated(callID: callID, caller: caller, callerDisplay: display, callee: callee)), expected,
                           "\(callID.prefix(20)) \(caller.prefix(20)) \(display ?? "-") \(callee.prefix(20))")
        }
        XCTAssertNil(field(SIPCall.validated(callID: String(repeating: "x", count: 512), caller: "a", callerDisplay: nil, callee: "b")))
    }

    func testCancelReasons() throws {
        XCTAssertEqual(try SIPCall.reason(nil).get(), .cancelled, "absent means cancelled")
        XCTAssertEqual(try SIPCall.reason("answered_elsewhere").get(), .answeredElsewhere)
        XCTAssertEqual(try SIPCall.reason("timeout").get(), .timeout)
        guard case .failure(let invalid) = SIPCall.reason("Cancelled") else { return XCTFail("reasons are exact") }
        XCTAssertEqual(invalid.field, "reason")
        XCTAssertTrue(invalid.rule.contains("\"answered_elsewhere\""))
    }

    func testHA1UsernamesThatCannotExistNeedNoQuery() {
        XCTAssertTrue(HA1Directory.isPossibleUsername("alice"))
        XCTAssertTrue(HA1Directory.isPossibleUsername(String(repeating: "a", count: 64)))
        for name in ["", String(repeating: "a", count: 65), "a b", "a\r\nb", "a\u{7F}"] {
            XCTAssertFalse(HA1Directory.isPossibleUsername(name), name)
        }
    }
}
