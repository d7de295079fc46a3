public import Codecs

/// A key that signs compact JWS: `SigningKey` (ES256, RS256) and an HMAC-SHA256 `HMACKey` (HS256).
public protocol JWSKey: Sendable {
    /// The JWS `alg` header value (RFC 7518 §3.1).
    var jwsAlgorithm: String { get }
    func jwsSignature(of signingInput: [UInt8]) -> [UInt8]
}

/// Compact JWS (RFC 7515) as JWTs use it (RFC 7519): the one signer of every token Switchboard makes
/// (its own HS256 session tokens, the APNs provider token, the FCM JWT-bearer assertion).
public enum JWS {
    /// The encoded protected header `{"alg":…,"typ":"JWT",…extra}`.
    public static func encodedHeader(for key: some JWSKey, extra: [(String, JSONValue)] = []) -> String {
        Base64.urlEncoded(JSONValue.object([("alg", .string(key.jwsAlgorithm)), ("typ", .string("JWT"))] + extra).bytes)
    }

    public static func sign(header extra: [(String, JSONValue)] = [], claims: JSONValue, with key: some JWSKey) -> String {
        sign(encodedHeader: encodedHeader(for: key, extra: extra), claims: claims, with: key)
    }

    /// For callers that encode their constant header once.
    public static func sign(encodedHeader: String, claims: JSONValue, with key: some JWSKey) -> String {
        let input = encodedHeader + "." + Base64.urlEncoded(claims.bytes)
        return input + "." + Base64.urlEncoded(key.jwsSignature(of: Array(input.utf8)))
    }
}

extension SigningKey: JWSKey {
    public var jwsAlgorithm: String { algorithm.rawValue }
    public func jwsSignature(of signingInput: [UInt8]) -> [UInt8] { sign(signingInput) }
}

extension HMACKey: JWSKey {
    public var jwsAlgorithm: String {
        switch digest {
        case .sha256: return "HS256"
        case .sha512: return "HS512"
        case .sha1: preconditionFailure("JWS has no HMAC-SHA1 algorithm")
        }
    }

    public func jwsSignature(of signingInput: [UInt8]) -> [UInt8] { mac(signingInput) }
}
