import Codecs
import COpenSSL

/// A password check against ejabberd's own `users` row (SCRAM: RFC 5802 keys derived with PBKDF2),
/// so Switchboard never stores a password. Rows: `password` = "sha256:" + base64(StoredKey) (no prefix
/// = SHA-1), `serverkey` = base64(ServerKey), `salt` base64, `iterationcount` (docs/xmpp.md).
public struct ScramPassword: Sendable, Equatable {
    public enum Hash: String, Sendable { case sha1, sha256, sha512 }

    public let hash: Hash
    public let storedKey: [UInt8]
    public let serverKey: [UInt8]
    public let salt: [UInt8]
    public let iterations: Int

    /// Parses a `users` row; nil for anything but a SCRAM row (plain-text rows are not supported).
    public init?(password: String, serverKey: String, salt: String, iterationCount: Int) {
        let parts = password.split(separator: ":", maxSplits: 1)
        let (hash, stored): (Hash, Substring)
        if parts.count == 2, let named = Hash(rawValue: String(parts[0])) {
            (hash, stored) = (named, parts[1])
        } else {
            (hash, stored) = (.sha1, Substring(password))
        }
        guard iterationCount > 0, iterationCount <= 1_000_000,
              let storedKey = Base64.standardDecoded(String(stored)), let serverKeyBytes = Base64.standardDecoded(serverKey),
              let saltBytes = Base64.standardDecoded(salt), !saltBytes.isEmpty
        else { return nil }
        self.init(hash: hash, storedKey: storedKey, serverKey: serverKeyBytes, salt: saltBytes, iterations: iterationCount)
    }

    public init(hash: Hash, storedKey: [UInt8], serverKey: [UInt8], salt: [UInt8], iterations: Int) {
        self.hash = hash
        self.storedKey = storedKey
        self.serverKey = serverKey
        self.salt = salt
        self.iterations = iterations
    }

    /// A row for `password` (SASLprep'ed), as ejabberd would store it: for tests and for the
    /// constant-time check of unknown users.
    public static func derive(_ password: String, salt: [UInt8], iterations: Int, hash: Hash = .sha256) -> ScramPassword {
        let keys = keys(password, salt: salt, iterations: iterations, hash: hash)
        return ScramPassword(hash: hash, storedKey: keys.stored, serverKey: keys.server, salt: salt, iterations: iterations)
    }

    /// CPU-heavy (PBKDF2, about a millisecond at 4096 iterations): run it off the loop.
    /// `password` must already be SASLprep'ed.
    public func matches(_ password: String) -> Bool {
        let keys = Self.keys(password, salt: salt, iterations: iterations, hash: hash)
        // Both compared in full, whatever the first gives.
        let storedMatches = ConstantTime.equals(keys.stored, storedKey)
        let serverMatches = ConstantTime.equals(keys.server, serverKey)
        return storedMatches && serverMatches
    }

    private static func keys(_ password: String, salt: [UInt8], iterations: Int, hash: Hash) -> (stored: [UInt8], server: [UInt8]) {
        let md: OpaquePointer = switch hash {
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha512: EVP_sha512()
        }
        let size = Int(EVP_MD_get_size(md))
        var salted = [UInt8](repeating: 0, count: size)
        let passwordBytes = Array(password.utf8)
        let ok = passwordBytes.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { chars in
                PKCS5_PBKDF2_HMAC(chars.baseAddress, Int32(chars.count), salt, Int32(salt.count), Int32(iterations), md, Int32(size), &salted)
            }
        }
        precondition(ok == 1, "OpenSSL PBKDF2 failed")
        let digest: HMACKey.Digest
        switch hash {
        case .sha1: digest = .sha1
        case .sha256: digest = .sha256
        case .sha512: digest = .sha512
        }
        let key = HMACKey(digest, key: salted)
        let clientKey = key.mac(Array("Client Key".utf8))
        var stored = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        precondition(EVP_Digest(clientKey, clientKey.count, &stored, &length, md, nil) == 1)
        return (stored, key.mac(Array("Server Key".utf8)))
    }
}
