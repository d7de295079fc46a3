import COpenSSL

/// A private key from PEM (an APNs `.p8` is PKCS#8 EC P-256; a service-account key is PKCS#8 RSA),
/// signing for JWS: ES256 gives the raw 64-byte r‖s JWS needs (RFC 7518 §3.4), RS256 PKCS#1 v1.5.
public final class SigningKey: @unchecked Sendable {
    public enum Algorithm: String, Sendable { case es256 = "ES256", rs256 = "RS256" }

    public let algorithm: Algorithm
    /// Immutable after init; EVP_DigestSign does not modify the key, so one key is safe from any thread.
    private let key: OpaquePointer

    /// Why a PEM is not a usable key; the description is written for the operator's start-up report.
    public enum LoadError: Error, Equatable, CustomStringConvertible {
        case notPEM, encrypted, unreadable
        case wrongType(expected: Algorithm, found: String)

        public var description: String {
            switch self {
            case .notPEM: return "holds no PEM private key (no -----BEGIN PRIVATE KEY----- block)"
            case .encrypted: return "holds an encrypted private key; Switchboard cannot ask for its passphrase"
            case .unreadable: return "holds a PEM block that OpenSSL cannot read as a private key"
            case .wrongType(.es256, let found): return "holds \(found), not the P-256 EC key of an APNs .p8 file"
            case .wrongType(.rs256, let found): return "holds \(found), not an RSA key of 2048 bits or more"
            }
        }
    }

    public init(pem: String, algorithm: Algorithm) throws(LoadError) {
        guard pem.contains("-----BEGIN "), pem.contains("PRIVATE KEY-----") else { throw .notPEM }
        if pem.contains("ENCRYPTED") { throw .encrypted }
        // A memory BIO keeps the pointer it is given and reads through it later (it does not copy),
        // so the bytes must stay valid until the BIO is freed: both live inside this closure. (Swift's
        // implicit array-to-pointer conversion is valid only for the one call it is made for: with it
        // the RSA key of a service account was read from freed memory in release builds.)
        let read: Result<OpaquePointer, LoadError> = Array(pem.utf8).withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return .failure(.unreadable) }
            defer { BIO_free(bio) }
            // A callback that supplies no passphrase: OpenSSL would otherwise prompt on the terminal.
            guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
                ERR_clear_error()  // leave no error behind for the next OpenSSL user on this thread (curl)
                return .failure(.unreadable)
            }
            return .success(key)
        }
        let key = try read.get()
        let type = EVP_PKEY_get_base_id(key), bits = EVP_PKEY_get_bits(key)
        guard (algorithm == .es256 && type == EVP_PKEY_EC && bits == 256)
                || (algorithm == .rs256 && type == EVP_PKEY_RSA && bits >= 2048) else {
            EVP_PKEY_free(key)
            let name = type == EVP_PKEY_EC ? "an EC key" : type == EVP_PKEY_RSA ? "an RSA key" : "a key of another type"
            throw .wrongType(expected: algorithm, found: "\(name) of \(bits) bits")
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
