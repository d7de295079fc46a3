/// What a username and a password must be (CONTRACTS §1), checked before anything is sent to
/// ejabberd: its add-user crashes, instead of answering, on a password SASLprep rejects or one over
/// 1023 bytes.
public enum AccountRules {
    public static let passwordBytes = 8...1023
    public static let usernameBytes = 1...64

    /// The localpart to use: nodeprep'ed, and changed by it at most by case folding.
    public static func username(_ raw: String) -> String? {
        guard let prepared = StringPrep.nodeprep(raw), usernameBytes.contains(prepared.utf8.count) else { return nil }
        guard prepared == raw || prepared == raw.lowercased() else { return nil }
        return prepared
    }

    /// The localpart of a login name: a username, or a bare JID on `domain`.
    public static func loginName(_ raw: String, domain: String) -> String? {
        let parts = raw.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard parts[1].lowercased() == domain else { return nil }
            return StringPrep.nodeprep(String(parts[0])).flatMap { usernameBytes.contains($0.utf8.count) ? $0 : nil }
        }
        return StringPrep.nodeprep(raw).flatMap { usernameBytes.contains($0.utf8.count) ? $0 : nil }
    }

    /// The SASLprep'ed password (what ejabberd hashes), or nil when it is unacceptable.
    public static func password(_ raw: String) -> String? {
        guard passwordBytes.contains(raw.utf8.count), let prepared = StringPrep.saslprep(raw), !prepared.isEmpty else { return nil }
        return prepared
    }
}
