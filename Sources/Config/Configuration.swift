public import Crypto
public import Services

/// Switchboard's configuration, as docs/configuration.md lists it. Built only by ``ConfigurationReader``,
/// which validates every value first.
public struct Configuration: Sendable {
    public enum Environment: String, Sendable, CaseIterable { case production, development }

    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: UInt16
        public init(host: String, port: UInt16) { self.host = host; self.port = port }
    }

    /// The APNs token key, read and checked at start-up (a P-256 EC key, as in a `.p8` file).
    public struct APNs: Sendable {
        public var keyFile: String
        public var keyID: String
        public var teamID: String
        public var key: SigningKey
        public init(keyFile: String, keyID: String, teamID: String, key: SigningKey) {
            self.keyFile = keyFile; self.keyID = keyID; self.teamID = teamID; self.key = key
        }
    }

    public var environment: Environment
    /// The public listener: the phone API, `/healthz`, `/readyz`.
    public var http: Endpoint
    /// The internal listener: Kamailio's hooks, `/metrics`, `/healthz`, `/readyz` (docs/hooks.md).
    public var hooksHTTP: Endpoint
    /// Open connections at once from one client address on the public listener; 0 for no limit
    /// (behind a load balancer or proxy, where every client has its address).
    public var httpConnectionsPerAddress: Int
    /// libpq URI or conninfo; may hold a password, so log only ``DatabaseAddress/redacted(_:)``.
    public var databaseURL: String
    public var ejabberdDatabaseURL: String
    public var jwtSecret: String

    public var xmppDomain: String
    public var xmppHost: String
    public var xmppPort: UInt16
    public var xmppWebSocketURL: String
    public var mucDomain: String

    public var adminComponent: Endpoint
    public var adminComponentDomain: String
    public var adminComponentSecret: String
    public var pushComponent: Endpoint
    public var pushComponentDomain: String
    public var pushComponentSecret: String

    public var hookSecret: String
    /// The bearer token of the operator endpoints (`ADMIN_TOKEN`); nil: they are not served.
    public var adminToken: String?
    public var sipDomain: String
    public var sipHost: String
    public var sipPort: UInt16
    public var sipWebSocketURL: String

    public var turnSecret: String
    public var turnURIs: [String]
    public var turnTTL: Int

    public var apns: APNs?
    public var apnsURL: String
    public var apnsSandboxURL: String
    /// Read and checked at start-up; nil means FCM is off.
    public var fcmServiceAccount: FCMServiceAccount?
    public var fcmURL: String
    /// A PEM bundle checked at start-up; curl reads it again for each new connection.
    public var pushCAFile: String?

    public var callRingSeconds: Int
    /// Login attempts per minute for one username, and for one client address; registrations per
    /// hour for one client address (429 with Retry-After past them).
    public var loginLimitPerUser: Int
    public var loginLimitPerAddress: Int
    public var registerLimitPerAddress: Int
    /// Password changes per hour for one account.
    public var passwordLimitPerAccount: Int
    /// Per-account limits (docs/api.md, "Limits per account").
    public var maxDevicesPerAccount: Int
    public var maxGroupsPerAccount: Int
    public var maxGroupMembers: Int
    /// Member names one account may have looked up per hour (group create and add members).
    public var memberLookupsPerAccount: Int
    /// Calls one caller may start per minute (docs/hooks.md).
    public var callLimitPerCaller: Int
    /// How long a stop waits for requests in flight and pushes already accepted (docs/xmpp.md).
    public var shutdownGraceSeconds: Int
    public var serverVersion: String
    public var minClientVersion: String
    /// The apps devices may register for (`APP_IDS`); nil: any (a start-up warning says so).
    public var appIDs: Set<String>?
    /// What is worth a word at start-up but no refusal (a key file others can read), each with its fix.
    public var warnings: [String] = []
}

/// One thing wrong with the environment, named by its variable, with the fix.
public struct ConfigurationProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public let variable: String
    public let problem: String
    public let fix: String

    public var description: String { "\(variable): \(problem). Fix: \(fix)" }
}

/// Every problem found, reported together so an operator fixes them in one pass.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    public let problems: [ConfigurationProblem]
    /// Found on the way, printed after the problems: a misspelt variable often explains one.
    public var warnings: [String] = []

    public init(problems: [ConfigurationProblem], warnings: [String] = []) {
        self.problems = problems
        self.warnings = warnings
    }

    public var description: String {
        let noun = problems.count == 1 ? "problem" : "problems"
        return (["configuration has \(problems.count) \(noun):"] + problems.map { "  - \($0)" } + warnings.map { "warning: \($0)" })
            .joined(separator: "\n")
    }
}
