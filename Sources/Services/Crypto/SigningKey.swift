import COpenSSL

/// A private key from PEM (an APNs `.p8` is PKCS#8 EC P-256; a service-account key is PKCS#8 RSA),
/// signing for JWS: ES256 gives the raw 64-byte r‖s JWS needs (RFC 7518 §3.4), RS256 PKCS#1 v1.5.
public final class SigningKey: @unchecked Sendable {
    public enum Algorithm: String, Sendable { case es256 = "ES256", rs256 = "RS256" }

    public let algorithm: Algorithm
    /// Immutable after init; EVP_DigestSign does not modify the key, so one key is safe from any thread.
    private let key: OpaquePointer

    public enum LoadError: Error, Equatable { case unreadable, wrongType(expected: Algorithm) }

    public init(pem: String, algorithm: Algorithm) throws(LoadError) {
        let bytes = Array(pem.utf8)
        guard let bio = BIO_new_mem_buf(bytes, Int32(bytes.count)) else { throw .unreadable }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else { throw .unreadable }
        let type = EVP_PKEY_get_base_id(key)
        guard (algorithm == .es256 && type == EVP_PKEY_EC && EVP_PKEY_get_bits(key) == 256)
                || (algorithm == .rs256 && type == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) >= 2048) else {
            EVP_PKEY_free(key)
            throw .wrongType(expected: algorithm)
        }
        self.key = key
        self.algorithm = algorithm
    }

    deinit { EVP_PKEY_free(key) }

    public func sign(_ message: [UInt8]) -> [UInt8] {
        let context = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1)
        var length = 0
        precondition(EVP_DigestSign(context, nil, &length, message, message.count) == 1)
        var signature = [UInt8](repeating: 0, count: length)
        precondition(EVP_DigestSign(context, &signature, &length, message, message.count) == 1)
        signature.removeLast(signature.count - length)
        return algorithm == .es256 ? Self.rawECDSA(fromDER: signature) : signature
    }

    /// DER `ECDSA-Sig-Value` → r‖s, each left-padded to 32 bytes.
    private static func rawECDSA(fromDER der: [UInt8]) -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: 64)
        der.withUnsafeBufferPointer { buffer in
            var pointer = buffer.baseAddress
            guard let signature = d2i_ECDSA_SIG(nil, &pointer, der.count) else { preconditionFailure("bad DER signature") }
            defer { ECDSA_SIG_free(signature) }
            var r: OpaquePointer?
            var s: OpaquePointer?
            ECDSA_SIG_get0(signature, &r, &s)
            raw.withUnsafeMutableBufferPointer { out in
                _ = BN_bn2binpad(r, out.baseAddress, 32)
                _ = BN_bn2binpad(s, out.baseAddress! + 32, 32)
            }
        }
        return raw
    }
}

/// Compact JWS (RFC 7515) with a `SigningKey`.
public enum JWS {
    public static func sign(header extra: [(String, JSONValue)], claims: JSONValue, with key: SigningKey) -> String {
        let header = JSONValue.object([("alg", .string(key.algorithm.rawValue)), ("typ", .string("JWT"))] + extra)
        let input = Base64.urlEncoded(header.bytes) + "." + Base64.urlEncoded(claims.bytes)
        return input + "." + Base64.urlEncoded(key.sign(Array(input.utf8)))
    }
}
