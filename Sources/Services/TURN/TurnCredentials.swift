/// TURN REST credentials for coturn's `use-auth-secret` (draft-uberti-behave-turn-rest):
/// username `<expiry unix s>:<jid>`, password base64(HMAC-SHA1(secret, username)).
public struct TurnCredentials: Codable, Equatable, Sendable {
    public let username: String
    public let password: String
    public let ttl: Int
    public let uris: [String]

    public static func make(secret: String, jid: String, ttl: Int, uris: [String], now: Int64) -> TurnCredentials {
        let username = "\(now + Int64(ttl)):\(jid)"
        let password = Base64.standard(HMAC.sha1(key: secret, message: username))
        return TurnCredentials(username: username, password: password, ttl: ttl, uris: uris)
    }
}
