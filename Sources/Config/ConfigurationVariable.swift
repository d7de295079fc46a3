/// Every environment variable Switchboard reads (docs/configuration.md), as one table: the docs' table
/// is this one rendered (`ConfigurationVariablesTests` holds them equal), `switchboard serve --help`
/// prints it, and `check-config` names the variable a misspelt one was meant to be.
public struct ConfigurationVariable: Sendable, Equatable {
    /// The variables of the row, in the order the docs name them.
    public let names: [String]
    /// The default(s), as the docs write them (Markdown).
    public let defaults: String
    /// What it does (Markdown).
    public let meaning: String
}

extension ConfigurationVariable {
    public static let all: [ConfigurationVariable] = [
        ConfigurationVariable(names: ["SWITCHBOARD_ENV"],
                              defaults: "`production`",
                              meaning: "`development` relaxes the secret checks only"),
        ConfigurationVariable(names: ["HTTP_HOST", "HTTP_PORT"],
                              defaults: "`0.0.0.0`, `8443`",
                              meaning: "the public listener: the phone API, `/healthz`, `/readyz` (plain HTTP)"),
        ConfigurationVariable(names: ["HTTP_CONNECTIONS_PER_ADDRESS"],
                              defaults: "`256`",
                              meaning: "open connections at once from one client address on the public listener, 0 to 100,000; 0 for no limit, which is what a deployment behind a load balancer or proxy needs (every client then has its address). Past it, new connections from that address are closed unanswered"),
        ConfigurationVariable(names: ["HOOKS_HTTP_HOST", "HOOKS_HTTP_PORT"],
                              defaults: "`127.0.0.1`, `8444`",
                              meaning: "the internal listener: Kamailio's hooks, `/metrics`, `/healthz`, `/readyz`; its port must differ from `HTTP_PORT`"),
        ConfigurationVariable(names: ["DATABASE_URL"],
                              defaults: "built from `DB_HOST` (`db`), `DB_PORT` (5432), `DB_USER` (`ejabberd`), `DB_NAME` (`ejabberd`), `DB_PASSWORD`",
                              meaning: "libpq URI or conninfo; logged only with the password redacted"),
        ConfigurationVariable(names: ["EJABBERD_DATABASE_URL"],
                              defaults: "`DATABASE_URL`",
                              meaning: "where ejabberd's `users` table is read (a read-only role)"),
        ConfigurationVariable(names: ["JWT_SECRET"],
                              defaults: "—",
                              meaning: "HS256 key of client tokens"),
        ConfigurationVariable(names: ["XMPP_DOMAIN", "XMPP_HOST", "XMPP_PORT", "XMPP_WS_URL"],
                              defaults: "`example.com`, `localhost`, `5222`, `ws://localhost:5280/ws`",
                              meaning: "what clients are told; `XMPP_DOMAIN` is also the JID domain"),
        ConfigurationVariable(names: ["MUC_DOMAIN"],
                              defaults: "`conference.<XMPP_DOMAIN>`",
                              meaning: "the MUC service"),
        ConfigurationVariable(names: ["XMPP_COMPONENT_HOST", "XMPP_COMPONENT_PORT"],
                              defaults: "`ejabberd`, `5347`",
                              meaning: "ejabberd's `ejabberd_service` listener for the admin domain"),
        ConfigurationVariable(names: ["XMPP_COMPONENT_DOMAIN", "XMPP_COMPONENT_SECRET"],
                              defaults: "`gateway.<XMPP_DOMAIN>`, —",
                              meaning: "the admin component: one per instance (docs/xmpp.md)"),
        ConfigurationVariable(names: ["PUSH_COMPONENT_HOST", "PUSH_COMPONENT_PORT"],
                              defaults: "the admin component's",
                              meaning: "the listener for the push domain (`deploy/` uses 5348)"),
        ConfigurationVariable(names: ["PUSH_COMPONENT_DOMAIN", "PUSH_COMPONENT_SECRET"],
                              defaults: "`push.<XMPP_DOMAIN>`, —",
                              meaning: "the XEP-0357 app server: shared by all instances"),
        ConfigurationVariable(names: ["HOOK_SECRET"],
                              defaults: "—",
                              meaning: "what Kamailio sends in `X-Hook-Secret` (docs/hooks.md)"),
        ConfigurationVariable(names: ["ADMIN_TOKEN"],
                              defaults: "unset: the operator endpoints are off",
                              meaning: "the bearer token of the operator endpoints on the hooks listener (docs/operations.md)"),
        ConfigurationVariable(names: ["SIP_DOMAIN", "SIP_HOST", "SIP_PORT", "SIP_WS_URL"],
                              defaults: "`<XMPP_DOMAIN>`, `<XMPP_HOST>`, `5060`, `wss://<XMPP_HOST>:8089/ws`",
                              meaning: "what clients are told; `SIP_DOMAIN` is the digest realm"),
        ConfigurationVariable(names: ["TURN_SECRET", "TURN_URIS", "TURN_TTL"],
                              defaults: "—, `turn:<XMPP_HOST>:3478?transport=udp,turn:<XMPP_HOST>:3478?transport=tcp`, `86400` (60 to 604800)",
                              meaning: "TURN REST credentials"),
        ConfigurationVariable(names: ["APNS_KEY_FILE", "APNS_KEY_ID", "APNS_TEAM_ID"],
                              defaults: "unset: APNs off",
                              meaning: "the `.p8` token key (below)"),
        ConfigurationVariable(names: ["APNS_URL", "APNS_SANDBOX_URL"],
                              defaults: "`https://api.push.apple.com`, `https://api.sandbox.push.apple.com`",
                              meaning: "by the registration's `environment`"),
        ConfigurationVariable(names: ["FCM_SERVICE_ACCOUNT_FILE"],
                              defaults: "unset: FCM off",
                              meaning: "the service-account JSON (below)"),
        ConfigurationVariable(names: ["FCM_URL"],
                              defaults: "`https://fcm.googleapis.com`",
                              meaning: "the FCM HTTP v1 API"),
        ConfigurationVariable(names: ["PUSH_CA_FILE"],
                              defaults: "system trust",
                              meaning: "an extra CA bundle trusted for APNs, FCM and the token URI"),
        ConfigurationVariable(names: ["APP_IDS"],
                              defaults: "unset: any app (a warning at start-up)",
                              meaning: "the bundle ids and package names devices may register for, comma-separated: a client cannot aim this server's pushes at another app of the same Apple team or Firebase project"),
        ConfigurationVariable(names: ["CALL_RING_SECONDS"],
                              defaults: "`30` (5 to 300)",
                              meaning: "the ring window: a call push's deadline and FCM `ttl`"),
        ConfigurationVariable(names: ["LOGIN_LIMIT_PER_USER_PER_MINUTE", "LOGIN_LIMIT_PER_ADDRESS_PER_MINUTE", "REGISTER_LIMIT_PER_ADDRESS_PER_HOUR"],
                              defaults: "`10`, `60`, `20`",
                              meaning: "429 + `Retry-After` past them; the per-user limit counts one username from one client address, and the username from all addresses together has a ceiling ten times higher (docs/api.md, \"Login limits\")"),
        ConfigurationVariable(names: ["PASSWORD_LIMIT_PER_ACCOUNT_PER_HOUR"],
                              defaults: "`10`",
                              meaning: "password changes per account (docs/api.md)"),
        ConfigurationVariable(names: ["CALL_LIMIT_PER_CALLER_PER_MINUTE"],
                              defaults: "`30`",
                              meaning: "calls one caller may start per minute through the call hook (docs/hooks.md)"),
        ConfigurationVariable(names: ["MAX_DEVICES_PER_ACCOUNT", "MAX_GROUPS_PER_ACCOUNT", "MAX_GROUP_MEMBERS"],
                              defaults: "`10`, `100`, `500`",
                              meaning: "limits per account (docs/api.md, \"Limits per account\")"),
        ConfigurationVariable(names: ["MEMBER_LOOKUPS_PER_ACCOUNT_PER_HOUR"],
                              defaults: "`2000`",
                              meaning: "member names one account may have looked up per hour, 1 to 1,000,000 (group lists are an existence oracle; docs/api.md, \"Limits per account\")"),
        ConfigurationVariable(names: ["SHUTDOWN_GRACE_SECONDS"],
                              defaults: "`10` (0 to 3600)",
                              meaning: "how long a stop waits, in all, for requests in flight and the pushes already accepted (docs/architecture.md, \"One lifecycle\")"),
        ConfigurationVariable(names: ["SERVER_VERSION", "MIN_CLIENT_VERSION"],
                              defaults: "`1.0.0`, `1.0.0`",
                              meaning: "returned in server info"),
        ConfigurationVariable(names: ["LOG_LEVEL"],
                              defaults: "`info`",
                              meaning: "`trace` … `critical`"),
        ConfigurationVariable(names: ["LOG_FORMAT"],
                              defaults: "`text`",
                              meaning: "`json`: one JSON object per line (`time` in UTC with milliseconds, `level`, `label`, `message`, then the metadata), for log shippers"),
    ]

    /// The seed's database variables, from which `DATABASE_URL`'s default is built (named in its row).
    public static let seedDatabaseNames = ["DB_HOST", "DB_PORT", "DB_USER", "DB_NAME", "DB_PASSWORD"]

    /// Every variable Switchboard reads.
    public static let names: Set<String> = Set(all.flatMap(\.names) + seedDatabaseNames)

    /// The row as docs/configuration.md's table writes it.
    public var markdownRow: String {
        "| " + names.map { "`\($0)`" }.joined(separator: ", ") + " | \(defaults) | \(meaning) |"
    }

    /// The row as `--help` prints it: names, then default and meaning, without Markdown's backticks.
    public var plainText: String {
        let plain = { (text: String) in String(text.filter { $0 != "`" }) }
        return names.joined(separator: ", ") + "\n    default: " + plain(defaults) + "\n    " + plain(meaning)
    }
}
