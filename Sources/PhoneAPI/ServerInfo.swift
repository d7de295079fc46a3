public import Codecs
public import Config

/// What `GET /api/v1/server/info` tells clients (docs/api.md): where to connect, all from configuration.
public enum ServerInfo {
    public static func json(_ c: Configuration) -> JSONValue {
        .object([
            ("xmpp_domain", .string(c.xmppDomain)),
            ("xmpp_host", .string(c.xmppHost)),
            ("xmpp_port", .int(Int(c.xmppPort))),
            ("xmpp_ws_url", .string(c.xmppWebSocketURL)),
            ("conference_domain", .string(c.mucDomain)),
            ("push_jid", .string(c.pushComponentDomain)),
            ("sip_domain", .string(c.sipDomain)),
            ("sip_host", .string(c.sipHost)),
            ("sip_port", .int(Int(c.sipPort))),
            ("sip_ws_url", .string(c.sipWebSocketURL)),
            ("turn_uris", .strings(c.turnURIs)),
            ("server_version", .string(c.serverVersion)),
            ("min_client_version", .string(c.minClientVersion)),
        ])
    }
}
