import COpenSSL

/// HMAC (RFC 2104) with a key prepared once: the inner and outer digest states after absorbing the
/// padded key are kept, so each MAC costs two state copies and two short digests. OpenSSL 3's
/// one-shot `HMAC()` re-fetches the digest and re-derives the key every call, which made it the
/// largest cost of an authenticated request (bench/RESULTS.md).
public final class HMACKey: @unchecked Sendable {
    public enum Digest: Sendable { case sha1, sha256, sha512 }

    /// Digest implementations fetched once (an implicit fetch per call is what makes one-shots slow).
    /// Fetched EVP_MD objects are immutable and documented as shareable between threads.
    nonisolated(unsafe) private static let sha1 = EVP_MD_fetch(nil, "SHA1", nil)!
    nonisolated(unsafe) private static let sha256 = EVP_MD_fetch(nil, "SHA256", nil)!
    nonisolated(unsafe) private static let sha512 = EVP_MD_fetch(nil, "SHA512", nil)!

    public let digest: Digest
    private let inner: OpaquePointer
    private let outer: OpaquePointer
    private let size: Int

    /// Immutable after init: `mac` only copies from these states, so one key is safe from any thread.
    public init(_ digest: Digest, key: [UInt8]) {
        self.digest = digest
        let md = switch digest {
        case .sha1: Self.sha1
        case .sha256: Self.sha256
        case .sha512: Self.sha512
        }
        let blockSize = Int(EVP_MD_get_block_size(md))
        size = Int(EVP_MD_get_size(md))
        var block = key.count > blockSize ? Self.digest(md, key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        inner = Self.absorb(md, block.map { $0 ^ 0x36 })
        outer = Self.absorb(md, block.map { $0 ^ 0x5C })
    }

    public convenience init(_ digest: Digest, key: some StringProtocol) { self.init(digest, key: Array(key.utf8)) }

    deinit {
        EVP_MD_CTX_free(inner)
        EVP_MD_CTX_free(outer)
    }

    public func mac(_ message: some Collection<UInt8>) -> [UInt8] {
        let context = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        let ok = EVP_MD_CTX_copy_ex(context, inner) == 1
            && message.withContiguousStorageIfAvailable({ EVP_DigestUpdate(context, $0.baseAddress, $0.count) == 1 })
                ?? Array(message).withUnsafeBytes({ EVP_DigestUpdate(context, $0.baseAddress, $0.count) == 1 })
            && EVP_DigestFinal_ex(context, &out, &length) == 1
            && EVP_MD_CTX_copy_ex(context, outer) == 1
            && EVP_DigestUpdate(context, out, size) == 1
            && EVP_DigestFinal_ex(context, &out, &length) == 1
        precondition(ok, "OpenSSL digest failed")
        return out
    }

    public func mac(_ message: some StringProtocol) -> [UInt8] { mac(Array(message.utf8)) }

    private static func absorb(_ md: OpaquePointer, _ bytes: [UInt8]) -> OpaquePointer {
        let context = EVP_MD_CTX_new()!
        precondition(EVP_DigestInit_ex(context, md, nil) == 1 && EVP_DigestUpdate(context, bytes, bytes.count) == 1)
        return context
    }

    private static func digest(_ md: OpaquePointer, _ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_Digest(bytes, bytes.count, &out, &length, md, nil) == 1)
        return Array(out.prefix(Int(length)))
    }
}
