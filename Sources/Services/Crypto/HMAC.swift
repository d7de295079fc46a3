import COpenSSL

/// Message authentication codes through OpenSSL 3's one-shot `HMAC`.
public enum HMAC {
    public enum Digest { case sha1, sha256 }

    public static func mac(_ digest: Digest, key: [UInt8], message: [UInt8]) -> [UInt8] {
        let md = digest == .sha1 ? EVP_sha1() : EVP_sha256()
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                COpenSSL.HMAC(md, k.baseAddress, Int32(k.count), m.baseAddress, m.count, &out, &length)
            }
        }
        precondition(ok != nil, "OpenSSL HMAC failed")
        return Array(out.prefix(Int(length)))
    }

    public static func sha256(key: some StringProtocol, message: some StringProtocol) -> [UInt8] {
        mac(.sha256, key: Array(key.utf8), message: Array(message.utf8))
    }

    public static func sha1(key: some StringProtocol, message: some StringProtocol) -> [UInt8] {
        mac(.sha1, key: Array(key.utf8), message: Array(message.utf8))
    }
}

/// Comparison whose time depends only on the lengths, never on where the inputs differ.
public enum ConstantTime {
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 }
        }
    }

    public static func equals(_ a: String, _ b: String) -> Bool { equals(Array(a.utf8), Array(b.utf8)) }
}

/// Cryptographically secure random bytes from OpenSSL's DRBG.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "OpenSSL RAND_bytes failed")
        return out
    }
}
