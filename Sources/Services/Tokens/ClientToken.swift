import Codecs
import Crypto

/// Client session tokens: compact JWS with HS256 (RFC 7519), claims `sub` (the account's bare JID),
/// `iat`, `exp` and `ver`, the account's credential version when the token was issued (a password
/// change or deletion moves the version on, which revokes older tokens: `CredentialVersions`).
/// Signing and verification are pure; the clock is a parameter.
public struct ClientTokenSigner: Sendable {
    public static let lifetimeSeconds: Int64 = 24 * 60 * 60
    /// Longer inputs are rejected before any parsing or MAC work.
    public static let maximumTokenBytes = 4096
    /// A header other than ours is parsed only up to this many encoded bytes (a few members): a
    /// header of hundreds of members, cheap to send, would cost a parse and duplicate-key checks.
    public static let maximumHeaderBytes = 256
    /// How far in the future an `iat` may lie (clock skew between instances).
    public static let allowedClockSkewSeconds: Int64 = 60

    private let key: HMACKey
    /// `{"alg":"HS256","typ":"JWT"}`, encoded once.
    private let header: String
    private let headerBytes: [UInt8]

    public init(secret: String) {
        key = HMACKey(.sha256, key: secret)
        header = JWS.encodedHeader(for: key)
        headerBytes = Array(header.utf8)
    }

    public struct Issued: Sendable, Equatable {
        public let token: String
        public let expiresAt: Int64
    }

    public func issue(subject: String, version: Int64, now: Int64) -> Issued {
        let expiresAt = now + Self.lifetimeSeconds
        let claims = JSONValue.object([("sub", .string(subject)), ("iat", .int64(now)), ("exp", .int64(expiresAt)),
                                       ("ver", .int64(version))])
        return Issued(token: JWS.sign(encodedHeader: header, claims: claims, with: key), expiresAt: expiresAt)
    }

    public enum Rejection: Error, Equatable, Sendable {
        case malformed, unsupportedAlgorithm, badSignature, expired, notYetValid, invalidClaims
    }

    /// Returns the subject of a valid token. The signature is checked before the claims are read,
    /// and compared in constant time against the canonical encoding (so no alternative encoding of
    /// the same bytes is accepted). Works on the UTF-8 bytes: this runs on every authenticated request.
    public func verify(_ token: String, now: Int64) -> Result<String, Rejection> {
        verifyClaims(token, now: now).map(\.subject)
    }

    public struct VerifiedClaims: Sendable, Equatable {
        public let subject: String
        public let expiresAt: Int64
        public let version: Int64
    }

    /// ``verify(_:now:)`` with the expiry too, for callers that remember verified tokens.
    public func verifyClaims(_ token: String, now: Int64) -> Result<VerifiedClaims, Rejection> {
        let bytes = Array(token.utf8)
        guard bytes.count <= Self.maximumTokenBytes else { return .failure(.malformed) }
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2, dots[0] > 0, dots[1] > dots[0] + 1 else { return .failure(.malformed) }
        let header = bytes[..<dots[0]], payload = bytes[(dots[0] + 1)..<dots[1]], signature = bytes[(dots[1] + 1)...]
        // Our header and PyJWT's are byte-identical; only other encodings need a JSON parse.
        if !header.elementsEqual(headerBytes) {
            guard header.count <= Self.maximumHeaderBytes, let headerJSON = Base64.urlDecoded(header), let parsed = try? JSONValue.parse(headerJSON, maximumDepth: 4)
            else { return .failure(.malformed) }
            guard parsed["alg"]?.stringValue == "HS256" else { return .failure(.unsupportedAlgorithm) }
        }
        guard ConstantTime.equals(signatureBytes(of: Array(bytes[..<dots[1]])), Array(signature)) else {
            return .failure(.badSignature)
        }
        guard let payloadJSON = Base64.urlDecoded(payload), let claims = try? JSONValue.parse(payloadJSON, maximumDepth: 8),
              let subject = claims["sub"]?.stringValue, !subject.isEmpty,
              let issuedAt = claims["iat"]?.int64Value, let expiresAt = claims["exp"]?.int64Value,
              let version = claims["ver"]?.int64Value, version >= 1
        else { return .failure(.invalidClaims) }
        guard expiresAt > now else { return .failure(.expired) }
        guard issuedAt <= now + Self.allowedClockSkewSeconds else { return .failure(.notYetValid) }
        return .success(VerifiedClaims(subject: subject, expiresAt: expiresAt, version: version))
    }

    private func signatureBytes(of signingInput: [UInt8]) -> [UInt8] {
        Base64.urlEncodedBytes(key.mac(signingInput))
    }

}
