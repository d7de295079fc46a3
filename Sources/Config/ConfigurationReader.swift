#if canImport(Glibc)
import Glibc
#endif
import Postgres
import Crypto
import Services
import Logging
public import FoundationEssentials

/// Reads and validates the environment into a ``Configuration``. Pure: the environment and file
/// reading are parameters. Every problem is collected; nothing stops at the first one. Key files are
/// configuration too: they are read and parsed here, so a broken one is reported with the rest.
public struct ConfigurationReader {
    /// A file's bytes, or nil when it cannot be read.
    public typealias FileReader = (String) -> [UInt8]?
    /// A file's permission bits (`st_mode & 0o777`), or nil when unknown.
    public typealias FileMode = (String) -> UInt32?

    private let env: [String: String]
    private let readFile: FileReader
    private let fileMode: FileMode
    private var problems: [ConfigurationProblem] = []
    private var warnings: [String] = []

    public static func read(
        _ env: [String: String],
        readFile: @escaping FileReader = { FileManager.default.contents(atPath: $0).map { Array($0) } },
        fileMode: @escaping FileMode = ConfigurationReader.permissions
    ) -> Result<Configuration, ConfigurationErrors> {
        var reader = ConfigurationReader(env: env, readFile: readFile, fileMode: fileMode)
        var configuration = reader.build()
        configuration.warnings = reader.warnings
        return reader.problems.isEmpty ? .success(configuration) : .failure(ConfigurationErrors(problems: reader.problems, warnings: reader.warnings))
    }

    /// Only what `switchboard migrate` needs: the database URL (DATABASE_URL or the seed's DB_*
    /// variables), checked as `serve` checks it; no secrets, no key files.
    public static func databaseURL(_ env: [String: String]) -> Result<String, ConfigurationErrors> {
        var reader = ConfigurationReader(env: env, readFile: { _ in nil }, fileMode: { _ in nil })
        let url = reader.databaseURL()
        return reader.problems.isEmpty ? .success(url) : .failure(ConfigurationErrors(problems: reader.problems))
    }

    /// The permission bits from `stat`.
    public static func permissions(_ path: String) -> UInt32? {
        var status = stat()
        return stat(path, &status) == 0 ? UInt32(status.st_mode) & 0o777 : nil
    }

    private init(env: [String: String], readFile: @escaping FileReader, fileMode: @escaping FileMode) {
        self.env = env
        self.readFile = readFile
        self.fileMode = fileMode
    }

    /// A private key other users of the host can read is worth a word at start-up, not a refusal
    /// (a container may mount it so on purpose).
    private mutating func warnIfOthersCanRead(_ name: String, _ path: String) {
        guard let mode = fileMode(path), mode & 0o004 != 0 else { return }
        warnings.append("\(name): '\(path)' holds a private key that every user of this host can read (mode \(String(mode, radix: 8))). Fix: chmod o-r '\(path)'")
    }

    private mutating func build() -> Configuration {
        warnAboutMisspelledNames()
        _ = enumValue("LOG_LEVEL", default: Logger.Level.info)  // swift-log's own levels, as Startup reads them
        _ = enumValue("LOG_FORMAT", default: LogFormatName.text)
        let environment = enumValue("SWITCHBOARD_ENV", default: Configuration.Environment.production)
        let relaxed = environment == .development
        let domain = domainName("XMPP_DOMAIN", default: "example.com")
        let xmppHost = hostName("XMPP_HOST", default: "localhost")
        let adminComponent = Configuration.Endpoint(
            host: hostName("XMPP_COMPONENT_HOST", default: "ejabberd"),
            port: port("XMPP_COMPONENT_PORT", default: 5347))
        let databaseURL = databaseURL()
        let http = Configuration.Endpoint(host: hostName("HTTP_HOST", default: "0.0.0.0"), port: port("HTTP_PORT", default: 8443))
        let hooks = Configuration.Endpoint(host: hostName("HOOKS_HTTP_HOST", default: "127.0.0.1"), port: port("HOOKS_HTTP_PORT", default: 8444))
        if hooks.port == http.port {
            report("HOOKS_HTTP_PORT", "'\(hooks.port)' is HTTP_PORT's port too",
                   fix: "give the internal listener (hooks, metrics) a port of its own, such as 8444")
        }
        let configuration = Configuration(
            environment: environment,
            http: http,
            hooksHTTP: hooks,
            httpConnectionsPerAddress: integer("HTTP_CONNECTIONS_PER_ADDRESS", default: 256, range: 0...100_000),
            databaseURL: databaseURL,
            ejabberdDatabaseURL: connectionString("EJABBERD_DATABASE_URL") ?? databaseURL,
            jwtSecret: secret("JWT_SECRET", relaxed: relaxed),
            xmppDomain: domain,
            xmppHost: xmppHost,
            xmppPort: port("XMPP_PORT", default: 5222),
            xmppWebSocketURL: url("XMPP_WS_URL", default: "ws://localhost:5280/ws", schemes: ["ws", "wss"]),
            mucDomain: domainName("MUC_DOMAIN", default: "conference.\(domain)"),
            adminComponent: adminComponent,
            adminComponentDomain: domainName("XMPP_COMPONENT_DOMAIN", default: "gateway.\(domain)"),
            adminComponentSecret: secret("XMPP_COMPONENT_SECRET", relaxed: relaxed),
            pushComponent: .init(
                host: hostName("PUSH_COMPONENT_HOST", default: adminComponent.host),
                port: port("PUSH_COMPONENT_PORT", default: adminComponent.port)),
            pushComponentDomain: domainName("PUSH_COMPONENT_DOMAIN", default: "push.\(domain)"),
            pushComponentSecret: secret("PUSH_COMPONENT_SECRET", relaxed: relaxed),
            hookSecret: secret("HOOK_SECRET", relaxed: relaxed),
            adminToken: value("ADMIN_TOKEN") == nil ? nil : secret("ADMIN_TOKEN", relaxed: relaxed),
            sipDomain: domainName("SIP_DOMAIN", default: domain),
            sipHost: hostName("SIP_HOST", default: xmppHost),
            sipPort: port("SIP_PORT", default: 5060),
            sipWebSocketURL: url("SIP_WS_URL", default: "wss://\(xmppHost):8089/ws", schemes: ["ws", "wss"]),
            turnSecret: secret("TURN_SECRET", relaxed: relaxed),
            turnURIs: turnURIs(host: xmppHost),
            turnTTL: integer("TURN_TTL", default: 86400, range: 60...604_800),
            apns: apns(),
            apnsURL: url("APNS_URL", default: "https://api.push.apple.com", schemes: ["https"]),
            apnsSandboxURL: url("APNS_SANDBOX_URL", default: "https://api.sandbox.push.apple.com", schemes: ["https"]),
            fcmServiceAccount: fcmServiceAccount(relaxed: relaxed),
            fcmURL: url("FCM_URL", default: "https://fcm.googleapis.com", schemes: ["https"]),
            pushCAFile: certificateBundle("PUSH_CA_FILE"),
            callRingSeconds: integer("CALL_RING_SECONDS", default: 30, range: 5...300),
            loginLimitPerUser: integer("LOGIN_LIMIT_PER_USER_PER_MINUTE", default: 10, range: 1...100_000),
            loginLimitPerAddress: integer("LOGIN_LIMIT_PER_ADDRESS_PER_MINUTE", default: 60, range: 1...100_000),
            registerLimitPerAddress: integer("REGISTER_LIMIT_PER_ADDRESS_PER_HOUR", default: 20, range: 1...100_000),
            passwordLimitPerAccount: integer("PASSWORD_LIMIT_PER_ACCOUNT_PER_HOUR", default: 10, range: 1...100_000),
            maxDevicesPerAccount: integer("MAX_DEVICES_PER_ACCOUNT", default: 10, range: 1...1000),
            maxGroupsPerAccount: integer("MAX_GROUPS_PER_ACCOUNT", default: 100, range: 1...100_000),
            maxGroupMembers: integer("MAX_GROUP_MEMBERS", default: 500, range: 1...10_000),
            memberLookupsPerAccount: integer("MEMBER_LOOKUPS_PER_ACCOUNT_PER_HOUR", default: 2000, range: 1...1_000_000),
            callLimitPerCaller: integer("CALL_LIMIT_PER_CALLER_PER_MINUTE", default: 30, range: 1...1_000_000),
            shutdownGraceSeconds: integer("SHUTDOWN_GRACE_SECONDS", default: 10, range: 0...3600),
            serverVersion: version("SERVER_VERSION", default: "1.0.0"),
            minClientVersion: version("MIN_CLIENT_VERSION", default: "1.0.0"),
            appIDs: appIDs())
        if !relaxed { checkDistinct(configuration) }
        return configuration
    }

    /// Each secret guards something else (tokens, hooks, TURN, the component streams): one leaked
    /// must not open another. The two component secrets may be equal (one ejabberd listener with a
    /// listener-wide password, docs/xmpp.md).
    private mutating func checkDistinct(_ c: Configuration) {
        let secrets = [("JWT_SECRET", c.jwtSecret), ("HOOK_SECRET", c.hookSecret), ("TURN_SECRET", c.turnSecret),
                       ("XMPP_COMPONENT_SECRET", c.adminComponentSecret), ("PUSH_COMPONENT_SECRET", c.pushComponentSecret),
                       ("ADMIN_TOKEN", c.adminToken ?? "")]
        for (index, (name, value)) in secrets.enumerated() where !value.isEmpty {
            let component = name.hasSuffix("COMPONENT_SECRET")
            guard let earlier = secrets[..<index].first(where: { $0.1 == value && !(component && $0.0.hasSuffix("COMPONENT_SECRET")) }) else {
                continue
            }
            report(name, "is the same as \(earlier.0)", fix: "give every secret its own random value, e.g. $(openssl rand -hex 32)")
        }
    }

    /// `APP_IDS`: the bundle ids and package names devices may register for; unset means any.
    private mutating func appIDs() -> Set<String>? {
        guard let raw = value("APP_IDS") else { return nil }
        let ids = raw.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }
        let invalid = ids.filter { !PushDevice.isAppID($0) }
        guard ids.isEmpty || !invalid.isEmpty else { return Set(ids) }
        report("APP_IDS", invalid.isEmpty ? "lists no app" : "'\(invalid.joined(separator: ","))' is not a bundle id or package name",
               fix: "list the apps this server pushes to, comma-separated, e.g. com.example.chat,com.example.chat.beta; or unset it")
        return nil
    }

    // MARK: - One rule per kind of value

    private mutating func report(_ variable: String, _ problem: String, fix: String) {
        problems.append(ConfigurationProblem(variable: variable, problem: problem, fix: fix))
    }

    /// A variable Switchboard does not read but whose name is close to one it does (`APNS_KEYFILE`) is
    /// most likely a typo that leaves the real one at its default: worth a warning naming the right one.
    private mutating func warnAboutMisspelledNames() {
        let known = ConfigurationVariable.names
        for name in env.keys.sorted() where !known.contains(name) && !(env[name] ?? "").isEmpty {
            if let meant = MisspelledName.closest(to: name, in: known) {
                warnings.append("\(name) is not a variable Switchboard reads; did you mean \(meant)?")
            }
        }
    }

    /// The value, or nil when unset or empty (an empty variable means "use the default").
    private func value(_ name: String) -> String? {
        guard let v = env[name], !v.isEmpty else { return nil }
        return v
    }

    private mutating func enumValue<E: RawRepresentable>(_ name: String, default fallback: E) -> E
    where E.RawValue == String, E: CaseIterable {
        guard let raw = value(name) else { return fallback }
        if let v = E(rawValue: raw) { return v }
        let allowed = E.allCases.map(\.rawValue).joined(separator: " or ")
        report(name, "'\(raw)' is not a known value", fix: "set it to \(allowed)")
        return fallback
    }

    private mutating func port(_ name: String, default fallback: UInt16) -> UInt16 {
        guard let raw = value(name) else { return fallback }
        if let p = UInt16(raw), p > 0 { return p }
        report(name, "'\(raw)' is not a TCP port", fix: "set it to a whole number from 1 to 65535")
        return fallback
    }

    private mutating func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
        guard let raw = value(name) else { return fallback }
        if let v = Int(raw), range.contains(v) { return v }
        report(name, "'\(raw)' is out of range", fix: "set it to a whole number from \(range.lowerBound) to \(range.upperBound)")
        return fallback
    }

    private mutating func hostName(_ name: String, default fallback: String) -> String {
        guard let raw = value(name) else { return fallback }
        if HostSyntax.isHost(raw) { return raw }
        report(name, "'\(raw)' is not a host name or IP address", fix: "set it to a name such as ejabberd.internal or an address such as 127.0.0.1")
        return fallback
    }

    private mutating func domainName(_ name: String, default fallback: String) -> String {
        guard let raw = value(name) else { return fallback }
        if HostSyntax.isDomainName(raw) { return raw }
        report(name, "'\(raw)' is not a lowercase domain name", fix: "set it to a domain such as example.com (letters, digits, '-' and '.')")
        return fallback
    }

    private mutating func url(_ name: String, default fallback: String, schemes: Set<String>) -> String {
        guard let raw = value(name) else { return fallback }
        if let u = URLComponents(string: raw), let scheme = u.scheme, schemes.contains(scheme), let host = u.host, !host.isEmpty {
            return raw
        }
        report(name, "'\(raw)' is not a \(schemes.sorted().joined(separator: "/")) URL", fix: "set it to a full URL such as \(fallback)")
        return fallback
    }

    private mutating func version(_ name: String, default fallback: String) -> String {
        guard let raw = value(name) else { return fallback }
        let parts = raw.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && UInt($0) != nil }) { return raw }
        report(name, "'\(raw)' is not a MAJOR.MINOR.PATCH version", fix: "set it to a version such as 1.4.0")
        return fallback
    }

    /// A required secret. Its value never appears in a problem report.
    private mutating func secret(_ name: String, relaxed: Bool) -> String {
        guard let raw = value(name) else {
            report(name, "is missing", fix: "set it to 32 or more random bytes, e.g. \(name)=$(openssl rand -hex 32)")
            return ""
        }
        if relaxed { return raw }
        if SecretStrength.isPlaceholder(raw) {
            report(name, "looks like a placeholder", fix: "replace it with 32 or more random bytes, e.g. $(openssl rand -hex 32), or set SWITCHBOARD_ENV=development on a development machine")
        } else if raw.utf8.count < SecretStrength.minimumBytes {
            report(name, "is \(raw.utf8.count) bytes long, shorter than \(SecretStrength.minimumBytes)", fix: "use 32 or more random bytes, e.g. $(openssl rand -hex 32)")
        }
        return raw
    }

    /// The file named by `name`, with its bytes; nil when unset or unreadable (reported).
    private mutating func optionalFile(_ name: String) -> (path: String, bytes: [UInt8])? {
        guard let path = value(name) else { return nil }
        if let bytes = readFile(path) { return (path, bytes) }
        report(name, "'\(path)' is not a readable file", fix: "point it at an existing file this process can read, or unset it")
        return nil
    }

    private mutating func signingKey(in file: (path: String, bytes: [UInt8]), from name: String, _ algorithm: SigningKey.Algorithm) -> SigningKey? {
        warnIfOthersCanRead(name, file.path)
        do {
            return try SigningKey(pem: String(decoding: file.bytes, as: UTF8.self), algorithm: algorithm)
        } catch {
            report(name, "'\(file.path)' \(error)", fix: "point it at the AuthKey_<KEY_ID>.p8 file downloaded from the Apple developer account")
            return nil
        }
    }

    private mutating func fcmServiceAccount(relaxed: Bool) -> FCMServiceAccount? {
        let name = "FCM_SERVICE_ACCOUNT_FILE"
        guard let file = optionalFile(name) else { return nil }
        warnIfOthersCanRead(name, file.path)
        do {
            let account = try FCMServiceAccount(json: file.bytes)
            // The signed assertion (and the access token in the answer) travel to token_uri.
            if !relaxed, !account.tokenURI.lowercased().hasPrefix("https://") {
                report(name, "'\(file.path)' has a token_uri that is not https (\(account.tokenURI))",
                       fix: "use the service account's own token_uri, https://oauth2.googleapis.com/token, or set SWITCHBOARD_ENV=development for a local fake")
            }
            return account
        } catch {
            report(name, "'\(file.path)' \(error)", fix: "point it at the JSON key of a service account (Firebase console → Project settings → Service accounts → Generate new private key)")
            return nil
        }
    }

    private mutating func certificateBundle(_ name: String) -> String? {
        guard let file = optionalFile(name) else { return nil }
        if let problem = CertificateBundle.problem(pem: String(decoding: file.bytes, as: UTF8.self)) {
            report(name, "'\(file.path)' \(problem)", fix: "point it at a PEM file of CA certificates, or unset it to trust the system's")
        }
        return file.path
    }

    /// APNs is on when APNS_KEY_FILE is set; then the key and both identifiers must be right.
    private mutating func apns() -> Configuration.APNs? {
        guard value("APNS_KEY_FILE") != nil else {
            for name in ["APNS_KEY_ID", "APNS_TEAM_ID"] where value(name) != nil {
                report(name, "is set but APNS_KEY_FILE is not, so APNs stays off", fix: "set APNS_KEY_FILE to the .p8 key, or unset \(name)")
            }
            return nil
        }
        let file = optionalFile("APNS_KEY_FILE")
        let key = file.flatMap { signingKey(in: $0, from: "APNS_KEY_FILE", .es256) }
        let keyID = appleIdentifier("APNS_KEY_ID"), teamID = appleIdentifier("APNS_TEAM_ID")
        guard let file, let key else { return nil }
        return .init(keyFile: file.path, keyID: keyID, teamID: teamID, key: key)
    }

    /// Apple key and team identifiers are 10 upper-case letters or digits.
    private mutating func appleIdentifier(_ name: String) -> String {
        guard let raw = value(name) else {
            report(name, "is missing while APNS_KEY_FILE is set", fix: "set it to the 10-character identifier from the Apple developer account")
            return ""
        }
        if raw.utf8.count == 10, raw.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }) { return raw }
        report(name, "'\(raw)' is not a 10-character Apple identifier", fix: "copy it from the Apple developer account (10 upper-case letters and digits)")
        return raw
    }

    private mutating func turnURIs(host: String) -> [String] {
        let fallback = ["turn:\(host):3478?transport=udp", "turn:\(host):3478?transport=tcp"]
        guard let raw = value("TURN_URIS") else { return fallback }
        let uris = raw.split(separator: ",").map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
            .filter { !$0.isEmpty }
        let bad = uris.filter { !($0.hasPrefix("turn:") || $0.hasPrefix("turns:") || $0.hasPrefix("stun:")) }
        if uris.isEmpty || !bad.isEmpty {
            report("TURN_URIS", "'\(raw)' is not a comma-separated list of turn:, turns: or stun: URIs", fix: "set it like turn:turn.example.com:3478?transport=udp,turns:turn.example.com:443?transport=tcp")
            return fallback
        }
        return uris
    }

    /// A libpq URI or conninfo string from `name`, checked by libpq's own parser; nil when unset.
    /// libpq parses `postgres://::bad` into the port ":bad" and complains only when connecting, so the
    /// ports (one per host) are checked here too.
    private mutating func connectionString(_ name: String) -> String? {
        guard let url = value(name) else { return nil }
        guard let options = DatabaseAddress.parse(url) else {
            report(name, "is not a libpq connection URI or conninfo string", fix: "set it like postgresql://user:password@host:5432/dbname")
            return url
        }
        if let ports = options["port"], ports.split(separator: ",", omittingEmptySubsequences: false).contains(where: { UInt16($0) == nil }) {
            report(name, "has the port '\(ports)', which is not a number (an IPv6 host needs brackets: postgresql://[::1]:5432/db)",
                   fix: "set it like postgresql://user:password@host:5432/dbname")
        }
        return url
    }

    /// DATABASE_URL, or one built from the DB_* variables of the seed.
    private mutating func databaseURL() -> String {
        if let url = connectionString("DATABASE_URL") { return url }
        var parts: [(String, String)] = [
            ("host", value("DB_HOST") ?? "db"), ("port", String(port("DB_PORT", default: 5432))),
            ("user", value("DB_USER") ?? "ejabberd"), ("dbname", value("DB_NAME") ?? "ejabberd"),
        ]
        if let password = value("DB_PASSWORD") { parts.append(("password", password)) }
        return DatabaseAddress.conninfo(parts)
    }
}

/// `LOG_FORMAT`'s values.
enum LogFormatName: String, CaseIterable {
    case text, json
}

/// The known variable a misspelt name was meant to be: the same but for underscores or case, or one
/// or two edits away from a name at least 8 characters long. Only names that share the first word of
/// a known one (APNS_, XMPP_, …) are considered, so PATH or HOME never match.
public enum MisspelledName {
    public static func closest(to name: String, in known: Set<String>) -> String? {
        let upper = name.uppercased()
        let squashed = { (s: String) in s.filter { $0 != "_" } }
        if let same = known.first(where: { squashed($0) == squashed(upper) }) { return same }
        let firstWord = { (s: String) in s.split(separator: "_").first.map(String.init) ?? s }
        let prefixes = Set(known.map(firstWord))
        guard prefixes.contains(firstWord(upper)) || prefixes.contains(where: { upper.hasPrefix($0) }) else { return nil }
        let scored = known.filter { $0.count >= 8 }.map { ($0, distance(Array(upper.utf8), Array($0.utf8))) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }?.0
    }

    /// Levenshtein distance.
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// What counts as a weak secret outside development.
public enum SecretStrength {
    public static let minimumBytes = 32

    /// Values shipped in examples and templates, or with almost no variety (e.g. 40 "x").
    public static func isPlaceholder(_ value: String) -> Bool {
        let lowered = value.lowercased()
        let markers = ["changeme", "change-me", "change_me", "change me", "placeholder", "replace", "example", "your-", "your_", "<", ">", "todo", "xxxx"]
        if markers.contains(where: lowered.contains) { return true }
        if ["secret", "password", "test", "default"].contains(where: { lowered.hasPrefix($0) && lowered.count < 2 * $0.count + 8 }) { return true }
        return Set(value.unicodeScalars).count < 6
    }
}

/// Syntax checks for host and domain names.
enum HostSyntax {
    static func isDomainName(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253, !s.hasPrefix("."), !s.hasSuffix("."), !s.contains("..") else { return false }
        return s.split(separator: ".").allSatisfy { label in
            label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        }
    }

    static func isHost(_ s: String) -> Bool {
        if isDomainName(s.lowercased()) { return true }
        // IPv6 literal
        return s.contains(":") && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) || $0 == 0x3A || $0 == 0x2E }
    }
}
