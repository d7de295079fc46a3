/// What `GET /api/v1/server/info` tells clients (CONTRACTS §1): where to connect, all from configuration.
public struct ServerInfo: Codable, Equatable, Sendable {
    public let xmppDomain: String
    public let xmppHost: String
    public let xmppPort: Int
    public let xmppWsURL: String
    public let conferenceDomain: String
    public let pushJID: String
    public let sipDomain: String
    public let sipHost: String
    public let sipPort: Int
    public let sipWsURL: String
    public let turnURIs: [String]
    public let serverVersion: String
    public let minClientVersion: String

    enum CodingKeys: String, CodingKey {
        case xmppDomain = "xmpp_domain", xmppHost = "xmpp_host", xmppPort = "xmpp_port", xmppWsURL = "xmpp_ws_url"
        case conferenceDomain = "conference_domain", pushJID = "push_jid"
        case sipDomain = "sip_domain", sipHost = "sip_host", sipPort = "sip_port", sipWsURL = "sip_ws_url"
        case turnURIs = "turn_uris", serverVersion = "server_version", minClientVersion = "min_client_version"
    }

    public init(_ c: Configuration) {
        xmppDomain = c.xmppDomain
        xmppHost = c.xmppHost
        xmppPort = Int(c.xmppPort)
        xmppWsURL = c.xmppWebSocketURL
        conferenceDomain = c.mucDomain
        pushJID = c.pushComponentDomain
        sipDomain = c.sipDomain
        sipHost = c.sipHost
        sipPort = Int(c.sipPort)
        sipWsURL = c.sipWebSocketURL
        turnURIs = c.turnURIs
        serverVersion = c.serverVersion
        minClientVersion = c.minClientVersion
    }
}
