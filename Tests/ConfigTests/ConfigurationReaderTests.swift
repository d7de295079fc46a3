import Postgres
import Config
import XCTest

final class ConfigurationReaderTests: XCTestCase {
    static let strong = "c3f1e9a07b5d42a8916e0d7c2b4f8a13e5d9c7b1"
    static let minimal: [String: String] = [
        "JWT_SECRET": strong + "1", "XMPP_COMPONENT_SECRET": strong + "2", "PUSH_COMPONENT_SECRET": strong + "3",
        "HOOK_SECRET": strong + "4", "TURN_SECRET": strong + "5",
    ]

    /// Files by path with their text; any other path is unreadable.
    private func read(_ env: [String: String], files: [String: String] = [:]) -> Result<Configuration, ConfigurationErrors> {
        ConfigurationReader.read(env, readFile: { files[$0].map { Array($0.utf8) } })
    }

    private func problems(_ env: [String: String], files: [String: String] = [:]) -> [ConfigurationProblem] {
        if case .failure(let errors) = read(env, files: files) { return errors.problems }
        return []
    }

    private func variables(_ env: [String: String]) -> [String] { problems(env).map(\.variable) }

    func testDefaultsOfTheContract() throws {
        let c = try read(Self.minimal).get()
        XCTAssertEqual(c.environment, .production)
        XCTAssertEqual(c.http, .init(host: "0.0.0.0", port: 8443))
        XCTAssertEqual(c.hooksHTTP, .init(host: "127.0.0.1", port: 8444), "the internal listener is on loopback unless told otherwise")
        XCTAssertEqual(c.shutdownGraceSeconds, 10)
        XCTAssertEqual([c.maxDevicesPerAccount, c.maxGroupsPerAccount, c.maxGroupMembers], [10, 100, 500])
        XCTAssertEqual(c.memberLookupsPerAccount, 2000)
        XCTAssertEqual(c.httpConnectionsPerAddress, 256)
        XCTAssertEqual(c.xmppDomain, "example.com")
        XCTAssertEqual(c.mucDomain, "conference.example.com")
        XCTAssertEqual(c.adminComponentDomain, "gateway.example.com")
        XCTAssertEqual(c.pushComponentDomain, "push.example.com")
        XCTAssertEqual(c.adminComponent, .init(host: "ejabberd", port: 5347))
        XCTAssertEqual(c.pushComponent, c.adminComponent)
        XCTAssertEqual(c.sipDomain, "example.com")
        XCTAssertEqual(c.sipHost, "localhost")
        XCTAssertEqual(c.sipWebSocketURL, "wss://localhost:8089/ws")
        XCTAssertEqual(c.turnURIs, ["turn:localhost:3478?transport=udp", "turn:localhost:3478?transport=tcp"])
        XCTAssertEqual(c.turnTTL, 86400)
        XCTAssertEqual(c.callRingSeconds, 30)
        XCTAssertNil(c.apns)
        XCTAssertEqual(c.apnsURL, "https://api.push.apple.com")
        XCTAssertEqual(c.ejabberdDatabaseURL, c.databaseURL)
        XCTAssertEqual(DatabaseAddress.parse(c.databaseURL)?["host"], "db")
        XCTAssertEqual(DatabaseAddress.parse(c.databaseURL)?["dbname"], "ejabberd")
    }

    /// One leaked secret must not open another door; the component secrets may be one (docs/xmpp.md).
    func testSecretsMustDifferFromEachOther() throws {
        let shared = Self.strong + "shared"
        let problems = self.problems(Self.minimal.merging(["HOOK_SECRET": shared, "TURN_SECRET": shared, "PUSH_COMPONENT_SECRET": shared]) { $1 })
        XCTAssertEqual(problems.map { "\($0.variable): \($0.problem)" },
                       ["TURN_SECRET: is the same as HOOK_SECRET", "PUSH_COMPONENT_SECRET: is the same as HOOK_SECRET"])
        XCTAssertFalse(problems.contains { $0.description.contains(shared) }, "the value is never printed")
        XCTAssertNoThrow(try read(Self.minimal.merging(["PUSH_COMPONENT_SECRET": Self.minimal["XMPP_COMPONENT_SECRET"]!]) { $1 }).get(),
                         "one ejabberd listener with a listener-wide password: the two component secrets are one")
        XCTAssertNoThrow(try read(Self.minimal.merging(["SWITCHBOARD_ENV": "development", "HOOK_SECRET": "x", "TURN_SECRET": "x"]) { $1 }).get())
    }

    func testTheAdminTokenIsOptionalButAsStrongAndDistinctAsAnySecret() throws {
        XCTAssertNil(try read(Self.minimal).get().adminToken, "unset: the operator endpoints are off")
        XCTAssertEqual(try read(Self.minimal.merging(["ADMIN_TOKEN": Self.strong + "admin"]) { $1 }).get().adminToken, Self.strong + "admin")
        XCTAssertEqual(problems(Self.minimal.merging(["ADMIN_TOKEN": "admin-token-1"]) { $1 }).map(\.variable), ["ADMIN_TOKEN"])
        XCTAssertEqual(problems(Self.minimal.merging(["ADMIN_TOKEN": Self.minimal["HOOK_SECRET"]!]) { $1 }).map { "\($0.variable): \($0.problem)" },
                       ["ADMIN_TOKEN: is the same as HOOK_SECRET"])
    }

    func testAppIDsAreAnAllowList() throws {
        XCTAssertNil(try read(Self.minimal).get().appIDs, "unset: any app (with a warning at start-up)")
        XCTAssertEqual(try read(Self.minimal.merging(["APP_IDS": "com.example.chat, com.example.chat.beta"]) { $1 }).get().appIDs,
                       ["com.example.chat", "com.example.chat.beta"])
        XCTAssertEqual(variables(Self.minimal.merging(["APP_IDS": "com.example.chat,not an id"]) { $1 }), ["APP_IDS"])
        XCTAssertEqual(variables(Self.minimal.merging(["APP_IDS": " , "]) { $1 }), ["APP_IDS"])
    }

    func testTheInternalListenerNeedsAPortOfItsOwn() {
        XCTAssertEqual(variables(Self.minimal.merging(["HTTP_PORT": "9000", "HOOKS_HTTP_PORT": "9000"]) { $1 }), ["HOOKS_HTTP_PORT"])
        XCTAssertEqual(variables(Self.minimal.merging(["HOOKS_HTTP_PORT": "8443"]) { $1 }), ["HOOKS_HTTP_PORT"], "the public default")
        XCTAssertEqual(variables(Self.minimal.merging(["HOOKS_HTTP_HOST": "not a host!", "SHUTDOWN_GRACE_SECONDS": "-1"]) { $1 }),
                       ["HOOKS_HTTP_HOST", "SHUTDOWN_GRACE_SECONDS"])
        XCTAssertEqual(try read(Self.minimal.merging(["HOOKS_HTTP_HOST": "10.0.0.5", "HOOKS_HTTP_PORT": "9444"]) { $1 }).get().hooksHTTP,
                       .init(host: "10.0.0.5", port: 9444))
    }

    func testDerivedDefaultsFollowTheDomainAndHost() throws {
        let c = try read(Self.minimal.merging(["XMPP_DOMAIN": "chat.test", "XMPP_HOST": "xmpp.chat.test"]) { $1 }).get()
        XCTAssertEqual(c.mucDomain, "conference.chat.test")
        XCTAssertEqual(c.pushComponentDomain, "push.chat.test")
        XCTAssertEqual(c.sipHost, "xmpp.chat.test")
        XCTAssertEqual(c.turnURIs.first, "turn:xmpp.chat.test:3478?transport=udp")
    }

    func testDatabaseURLBuiltFromSeedVariablesQuotesValues() throws {
        let c = try read(Self.minimal.merging(["DB_HOST": "pg", "DB_PORT": "6543", "DB_PASSWORD": "it's \\ secret"]) { $1 }).get()
        let parsed = try XCTUnwrap(DatabaseAddress.parse(c.databaseURL))
        XCTAssertEqual(parsed["host"], "pg")
        XCTAssertEqual(parsed["port"], "6543")
        XCTAssertEqual(parsed["password"], "it's \\ secret")
        XCTAssertFalse(DatabaseAddress.redacted(c.databaseURL).contains("secret"))
    }

    func testEveryMissingSecretIsReportedAtOnce() {
        XCTAssertEqual(Set(variables([:])),
                       ["JWT_SECRET", "XMPP_COMPONENT_SECRET", "PUSH_COMPONENT_SECRET", "HOOK_SECRET", "TURN_SECRET"])
    }

    func testAllProblemsAreReportedTogetherWithTheirFix() {
        var env = Self.minimal
        env["HTTP_PORT"] = "70000"
        env["XMPP_PORT"] = "http"
        env["XMPP_DOMAIN"] = "Bad Domain"
        env["XMPP_WS_URL"] = "http://x/ws"
        env["TURN_TTL"] = "5"
        env["TURN_URIS"] = "http://turn.example.com"
        env["CALL_RING_SECONDS"] = "0"
        env["SERVER_VERSION"] = "one"
        env["SWITCHBOARD_ENV"] = "staging"
        env["DATABASE_URL"] = "postgresql://[broken"
        env["APNS_URL"] = "ftp://apple"
        env["EJABBERD_DATABASE_URL"] = "host='unterminated"
        env["HTTP_CONNECTIONS_PER_ADDRESS"] = "-1"
        env["MEMBER_LOOKUPS_PER_ACCOUNT_PER_HOUR"] = "0"
        let found = problems(env)
        XCTAssertEqual(Set(found.map(\.variable)), [
            "HTTP_PORT", "XMPP_PORT", "XMPP_DOMAIN", "XMPP_WS_URL", "TURN_TTL", "TURN_URIS", "CALL_RING_SECONDS",
            "SERVER_VERSION", "SWITCHBOARD_ENV", "DATABASE_URL", "APNS_URL", "EJABBERD_DATABASE_URL",
            "HTTP_CONNECTIONS_PER_ADDRESS", "MEMBER_LOOKUPS_PER_ACCOUNT_PER_HOUR",
        ])
        XCTAssertTrue(found.allSatisfy { !$0.fix.isEmpty && $0.description.hasPrefix($0.variable + ": ") })
    }

    func testShortAndPlaceholderSecretsAreRefusedOutsideDevelopment() {
        var env = Self.minimal
        env["JWT_SECRET"] = "short-but-random-9f2"
        env["HOOK_SECRET"] = "changeme-changeme-changeme-changeme-changeme"
        env["TURN_SECRET"] = String(repeating: "x", count: 40)
        let found = problems(env)
        XCTAssertEqual(Set(found.map(\.variable)), ["JWT_SECRET", "HOOK_SECRET", "TURN_SECRET"])
        XCTAssertFalse(found.map(\.description).joined().contains("short-but-random-9f2"), "a secret's value is never printed")

        env["SWITCHBOARD_ENV"] = "development"
        XCTAssertEqual(problems(env), [])
    }

    func testAPNsNeedsItsKeyIdentifiersAndAReadableFile() throws {
        let key = ["/keys/AuthKey.p8": try KeyFileTests.materials().ec]
        var env = Self.minimal
        env["APNS_KEY_FILE"] = "/keys/AuthKey.p8"
        XCTAssertEqual(Set(problems(env, files: key).map(\.variable)), ["APNS_KEY_ID", "APNS_TEAM_ID"])
        env["APNS_KEY_ID"] = "ABC123DEFG"
        env["APNS_TEAM_ID"] = "team"
        XCTAssertEqual(problems(env, files: key).map(\.variable), ["APNS_TEAM_ID"])
        env["APNS_TEAM_ID"] = "DEF123ABCG"
        XCTAssertEqual(problems(env).map(\.variable), ["APNS_KEY_FILE"], "an unreadable key file is reported")
        let c = try read(env, files: key).get()
        XCTAssertEqual(c.apns?.keyFile, "/keys/AuthKey.p8")
        XCTAssertEqual(c.apns?.keyID, "ABC123DEFG")
        XCTAssertEqual(c.apns?.teamID, "DEF123ABCG")
    }

    func testAPNsIdentifiersWithoutAKeyFileAreAMistake() {
        XCTAssertEqual(variables(Self.minimal.merging(["APNS_KEY_ID": "ABC123DEFG"]) { $1 }), ["APNS_KEY_ID"])
    }

    func testOptionalFilesMustBeReadable() throws {
        let env = Self.minimal.merging(["FCM_SERVICE_ACCOUNT_FILE": "/nope.json", "PUSH_CA_FILE": "/ca.pem"]) { $1 }
        XCTAssertEqual(Set(problems(env, files: ["/ca.pem": try KeyFileTests.materials().certificate]).map(\.variable)), ["FCM_SERVICE_ACCOUNT_FILE"])
    }

    func testEmptyVariablesMeanTheDefault() throws {
        let c = try read(Self.minimal.merging(["HTTP_PORT": "", "XMPP_DOMAIN": ""]) { $1 }).get()
        XCTAssertEqual(c.http.port, 8443)
        XCTAssertEqual(c.xmppDomain, "example.com")
    }

    func testErrorsDescriptionCountsAndListsProblems() {
        guard case .failure(let errors) = read([:]) else { return XCTFail("expected problems") }
        let text = errors.description
        XCTAssertTrue(text.hasPrefix("configuration has 5 problems:"))
        XCTAssertTrue(text.contains("JWT_SECRET: is missing. Fix: set it to 32 or more random bytes"))
    }

    func testPlaceholderDetection() {
        for placeholder in ["changeme", "CHANGE_ME_PLEASE_0123456789abcdef01234", "<your-secret-here>", "secret", "password123",
                            "your-jwt-secret-goes-here-0123456789", String(repeating: "ab", count: 20)] {
            XCTAssertTrue(SecretStrength.isPlaceholder(placeholder), placeholder)
        }
        XCTAssertFalse(SecretStrength.isPlaceholder(Self.strong))
    }

    func testAMisspeltVariableIsAWarningNamingTheRightOne() throws {
        let env = Self.minimal.merging(["APNS_KEYFILE": "/k.p8", "JWTSECRET": "x", "XMPP_DOMIAN": "a.b", "log_level": "info",
                                        "PATH": "/usr/bin", "HOME": "/root", "HOSTNAME": "h", "LANG": "C.UTF-8"]) { $1 }
        let warnings = try read(env).get().warnings.filter { $0.contains("did you mean") }
        XCTAssertEqual(warnings, [
            "APNS_KEYFILE is not a variable Switchboard reads; did you mean APNS_KEY_FILE?",
            "JWTSECRET is not a variable Switchboard reads; did you mean JWT_SECRET?",
            "XMPP_DOMIAN is not a variable Switchboard reads; did you mean XMPP_DOMAIN?",
            "log_level is not a variable Switchboard reads; did you mean LOG_LEVEL?",
        ])
    }

    func testLogLevelAndDatabasePortsAreChecked() {
        XCTAssertEqual(variables(Self.minimal.merging(["LOG_LEVEL": "verbose"]) { $1 }), ["LOG_LEVEL"])
        XCTAssertEqual(variables(Self.minimal.merging(["DATABASE_URL": "postgres://::bad"]) { $1 }), ["DATABASE_URL"],
                       "libpq parses the port ':bad' and would complain only when connecting")
        XCTAssertEqual(variables(Self.minimal.merging(["DATABASE_URL": "postgresql://u@[::1]:5432,h2:5433/db"]) { $1 }), [])
    }
}
