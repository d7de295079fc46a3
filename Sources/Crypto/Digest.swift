import COpenSSL

/// One-shot message digests.
public enum Digest {
    public static func md5(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_md5(), 16) }
    public static func sha1(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha1(), 20) }
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, EVP_sha256(), 32) }

    private static func digest(_ bytes: [UInt8], _ md: OpaquePointer?, _ size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        precondition(EVP_Digest(bytes, bytes.count, &out, &length, md, nil) == 1, "OpenSSL digest failed")
        return out
    }
}
