import Crypto
public import HTTPServer
public import Config
import JSONAPI
import Loop
import Services

/// `GET /api/v1/server/info` and `GET /api/v1/turn/credentials` (docs/api.md).
public enum ServerRoutes {
    public static func install(on router: inout Router, configuration: Configuration,
                               auth: BearerAuthenticator, now: @escaping @Sendable () -> Int64) {
        // Server info depends on configuration alone: encode it once.
        router.add(.GET, "/api/v1/server/info", .fixed(PreparedResponse(.json(ServerInfo.json(configuration)))))

        let secret = HMACKey(.sha1, key: configuration.turnSecret), ttl = configuration.turnTTL, uris = configuration.turnURIs
        router.add(.GET, "/api/v1/turn/credentials", .authenticated(auth) { _, jid in
            .json(TurnCredentials.make(secret: secret, jid: jid, ttl: ttl, uris: uris, now: now()).json)
        })
    }
}
