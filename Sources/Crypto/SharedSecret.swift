/// A secret a caller presents (Kamailio's hook secret, the operator's token), compared as SHA-256
/// digests in constant time, so neither its content nor its length leaks through timing.
public struct SharedSecret: Sendable {
    private let digest: [UInt8]

    public init(_ secret: String) { digest = Digest.sha256(Array(secret.utf8)) }

    public func matches(_ offered: String?) -> Bool {
        guard let offered else { return false }
        return ConstantTime.equals(Digest.sha256(Array(offered.utf8)), digest)
    }
}
