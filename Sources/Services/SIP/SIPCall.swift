import Crypto

/// The two call events Kamailio reports (docs/hooks.md), validated: every field checked for presence,
/// size and shape, so that nothing odd reaches a push payload or a query.
public struct SIPCall: Equatable, Sendable {
    public let callID: String
    public let caller: String
    public let callerDisplay: String?
    /// The caller's account name, when the SIP user name is one (Kamailio authenticated the caller as
    /// that user): who may read the call's state as its caller.
    public let callerAccount: String?
    /// The callee's account name (nodeprep applied: SIP user parts are matched case-insensitively by
    /// Kamailio's location lookup, accounts are stored prepared).
    public let callee: String

    public struct Invalid: Error, Equatable, Sendable {
        public let field: String
        public let rule: String
    }

    public enum CancelReason: String, Sendable, CaseIterable {
        case cancelled
        case answeredElsewhere = "answered_elsewhere"
        case timeout
    }

    static let maximumCallIDBytes = 512
    static let maximumNameBytes = 256

    public static func validated(callID: String, caller: String, callerDisplay: String?, callee: String) -> Result<SIPCall, Invalid> {
        guard (1...maximumCallIDBytes).contains(callID.utf8.count), callID.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .failure(.init(field: "call_id", rule: "a SIP Call-ID (visible ASCII, 1 to \(maximumCallIDBytes) bytes)"))
        }
        guard isPrintable(caller), !caller.isEmpty else {
            return .failure(.init(field: "caller", rule: "a SIP user name (1 to \(maximumNameBytes) bytes, no control characters)"))
        }
        if let callerDisplay, !isPrintable(callerDisplay) {
            return .failure(.init(field: "caller_display", rule: "text of at most \(maximumNameBytes) bytes without control characters"))
        }
        guard callee.utf8.count <= maximumNameBytes, let prepared = StringPrep.nodeprep(callee), !prepared.isEmpty else {
            return .failure(.init(field: "callee", rule: "a user name of this server"))
        }
        let display = callerDisplay.map(withoutFormatCharacters).flatMap { $0.isEmpty ? nil : $0 }
        let account = StringPrep.nodeprep(caller).flatMap { $0.isEmpty ? nil : $0 }
        return .success(SIPCall(callID: callID, caller: caller, callerDisplay: display, callerAccount: account, callee: prepared))
    }

    public static func reason(_ raw: String?) -> Result<CancelReason, Invalid> {
        guard let raw else { return .success(.cancelled) }
        guard let reason = CancelReason(rawValue: raw) else {
            return .failure(.init(field: "reason", rule: CancelReason.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")))
        }
        return .success(reason)
    }

    /// The display name ends up on the callee's lock screen: bidi controls and other format characters
    /// (general category Cf: U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 isolates, zero-width spaces, …)
    /// could disguise it, so they are removed, not refused (a SIP client's name should still show).
    /// U+200D ZERO WIDTH JOINER stays: it only joins emoji sequences and moves nothing.
    static func withoutFormatCharacters(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.lazy.filter { $0.value == 0x200D || $0.properties.generalCategory != .format })
        return String(scalars)
    }

    private static func isPrintable(_ text: String) -> Bool {
        text.utf8.count <= maximumNameBytes && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) }
    }
}
