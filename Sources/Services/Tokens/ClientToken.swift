import Foundation

/// Client session tokens: compact JWS with HS256 (RFC 7519), claims `sub` (the account's bare JID),
/// `iat` and `exp`. Signing and verification are pure; the clock is a parameter.
public struct ClientTokenSigner: Sendable {
    public static let lifetimeSeconds: Int64 = 24 * 60 * 60
    /// Longer inputs are rejected before any parsing or MAC work.
    public static let maximumTokenBytes = 4096
    /// How far in the future an `iat` may lie (clock skew between instances).
    public static let allowedClockSkewSeconds: Int64 = 60

    private let key: [UInt8]
    private static let header = Base64.urlEncoded(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))

    public init(secret: String) { key = Array(secret.utf8) }

    public struct Issued: Sendable, Equatable {
        public let token: String
        public let expiresAt: Int64
    }

    public func issue(subject: String, now: Int64) -> Issued {
        let claims = Claims(sub: subject, iat: now, exp: now + Self.lifetimeSeconds)
        let payload = Base64.urlEncoded(Array(try! JSONEncoder.sorted.encode(claims)))
        let signingInput = Self.header + "." + payload
        return Issued(token: signingInput + "." + signature(of: signingInput), expiresAt: claims.exp)
    }

    public enum Rejection: Error, Equatable, Sendable {
        case malformed, unsupportedAlgorithm, badSignature, expired, notYetValid, invalidClaims
    }

    /// Returns the subject of a valid token. The signature is checked before the claims are read,
    /// and compared in constant time against the canonical encoding (so no alternative encoding of
    /// the same bytes is accepted).
    public func verify(_ token: String, now: Int64) -> Result<String, Rejection> {
        guard token.utf8.count <= Self.maximumTokenBytes else { return .failure(.malformed) }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { return .failure(.malformed) }
        guard let headerBytes = Base64.urlDecoded(parts[0]),
              let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes))
        else { return .failure(.malformed) }
        guard header.alg == "HS256" else { return .failure(.unsupportedAlgorithm) }
        let signingInput = parts[0] + "." + parts[1]
        guard ConstantTime.equals(signature(of: String(signingInput)), String(parts[2])) else {
            return .failure(.badSignature)
        }
        guard let payloadBytes = Base64.urlDecoded(parts[1]),
              let claims = try? JSONDecoder().decode(Claims.self, from: Data(payloadBytes)),
              !claims.sub.isEmpty
        else { return .failure(.invalidClaims) }
        guard claims.exp > now else { return .failure(.expired) }
        guard claims.iat <= now + Self.allowedClockSkewSeconds else { return .failure(.notYetValid) }
        return .success(claims.sub)
    }

    private func signature(of signingInput: String) -> String {
        Base64.urlEncoded(HMAC.mac(.sha256, key: key, message: Array(signingInput.utf8)))
    }

    private struct Header: Decodable { let alg: String }
    private struct Claims: Codable { let sub: String; let iat: Int64; let exp: Int64 }
}

extension JSONEncoder {
    /// Deterministic output (sorted keys, no escaped slashes): stable bytes for signatures and tests.
    public static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
