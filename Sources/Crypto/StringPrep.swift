import CIDNShims

/// The stringprep profiles ejabberd applies (through libidn): nodeprep for the localpart of a JID
/// and SASLprep for passwords. ejabberd hashes the SASLprep'ed password, so Switchboard must prepare
/// it the same way before checking it (docs/xmpp.md).
public enum StringPrep {
    /// The prepared string, or nil when the profile prohibits something in it.
    public static func nodeprep(_ input: String) -> String? { prepare(input, shim_nodeprep) }

    public static func saslprep(_ input: String) -> String? { prepare(input, shim_saslprep) }

    private static func prepare(_ input: String, _ profile: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> String? {
        let bytes = Array(input.utf8)
        guard !bytes.contains(0) else { return nil }
        // Preparation can grow a string (NFKC, case folding): leave room, as libidn's own tools do.
        var buffer = [CChar](repeating: 0, count: bytes.count * 4 + 16)
        for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
        let rc = buffer.withUnsafeMutableBufferPointer { profile($0.baseAddress!, $0.count) }
        guard rc == 0 else { return nil }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(validating: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
