public import Codecs
public import Crypto

/// TURN REST credentials for coturn's `use-auth-secret` (draft-uberti-behave-turn-rest):
/// username `<expiry unix s>:<jid>`, password base64(HMAC-SHA1(secret, username)).
public struct TurnCredentials: Equatable, Sendable {
    public let username: String
    public let password: String
    public let ttl: Int
    public let uris: [String]

    public static func make(secret: HMACKey, jid: String, ttl: Int, uris: [String], now: Int64) -> TurnCredentials {
        let username = "\(now + Int64(ttl)):\(jid)"
        let password = Base64.standard(secret.mac(username))
        return TurnCredentials(username: username, password: password, ttl: ttl, uris: uris)
    }

    /// The response body of `GET /api/v1/turn/credentials`.
    public var json: JSONValue {
        .object([("username", .string(username)), ("password", .string(password)), ("ttl", .int(ttl)), ("uris", .strings(uris))])
    }
}
