import XMPP
import Codecs
public import HTTPServer
public import JSONAPI
public import Loop
public import Services

/// `POST /api/v1/account/register`, `POST /api/v1/account/login`, `POST /api/v1/account/password` and
/// `DELETE /api/v1/account` (docs/api.md).
public enum AccountRoutes {
    struct Credentials: Decodable {
        let username: String
        let password: String
    }

    struct PasswordChange: Decodable {
        let old_password: String
        let new_password: String
    }

    public static func install(on router: inout Router, accounts: AccountService, limits: AccountRateLimits, auth: BearerAuthenticator) {
        router.add(.POST, "/api/v1/account/password", .authenticatedDeferred(auth) { request, jid in
            switch JSONBody.decode(PasswordChange.self, from: request) {
            case .failure(let error): return error.response
            case .success(let change):
                // Each change runs PBKDF2 and checks the old password: a guessing oracle for a stolen token.
                if let wait = limits.passwordChange(jid: jid) { return APIError.rateLimited(retryAfterSeconds: wait).response }
                switch await accounts.changePassword(jid: jid, old: change.old_password, new: change.new_password) {
                case .success(let session): return .json(json(session))
                case .failure(let failure): return APIError(failure).response
                }
            }
        })
        router.add(.DELETE, "/api/v1/account", .authenticatedDeferred(auth) { _, jid in
            switch await accounts.delete(jid: jid) {
            case .success: return .noContent()
            case .failure(let failure): return APIError(failure).response
            }
        })
        router.add(.POST, "/api/v1/account/register", .deferred { request in
            await answer(request, status: 201) { credentials in
                if let wait = limits.register(address: request.clientAddress) { return .limited(wait) }
                return .done(await accounts.register(username: credentials.username, password: credentials.password))
            }
        })
        router.add(.POST, "/api/v1/account/login", .deferred { request in
            await answer(request, status: 200) { credentials in
                if let wait = limits.login(username: credentials.username, address: request.clientAddress) { return .limited(wait) }
                return .done(await accounts.login(username: credentials.username, password: credentials.password))
            }
        })
    }

    enum Outcome {
        case done(Result<AccountService.Session, AccountService.Failure>)
        case limited(Int)
    }

    private static func answer(_ request: HTTPRequest, status: Int,
                               _ run: @LoopActor (Credentials) async -> Outcome) async -> HTTPResponse {
        switch JSONBody.decode(Credentials.self, from: request) {
        case .failure(let error):
            return error.response
        case .success(let credentials):
            switch await run(credentials) {
            case .done(.success(let session)): return .json(json(session), status: status)
            case .done(.failure(let failure)): return APIError(failure).response
            case .limited(let seconds): return APIError.rateLimited(retryAfterSeconds: seconds).response
            }
        }
    }

    /// The session shape of docs/api.md.
    static func json(_ session: AccountService.Session) -> JSONValue {
        .object([
            ("jid", .string(session.jid)), ("token", .string(session.token)), ("token_type", .string("Bearer")),
            ("expires_at", .int64(session.expiresAt)),
            ("sip", .object([("username", .string(session.sipUsername)), ("domain", .string(session.sipDomain))])),
        ])
    }
}

extension APIError {
    public init(_ failure: AccountService.Failure) {
        switch failure {
        case .invalidUsername:
            self = APIError(status: 400, code: "invalid_username",
                            message: "The username must be 1 to 64 bytes that XMPP accepts as the name part of an address.")
        case .weakPassword:
            self = APIError(status: 400, code: "weak_password", message: "The password must be 8 to 1023 bytes of printable text.")
        case .usernameTaken:
            self = APIError(status: 409, code: "username_taken", message: "That username is taken.")
        case .invalidCredentials:
            self = APIError(status: 401, code: "invalid_credentials", message: "The username or password is wrong.")
        case .xmppUnavailable:
            self = .xmppUnavailable
        case .databaseUnavailable:
            self = .databaseUnavailable
        case .busy:
            self = .rateLimited(retryAfterSeconds: 1)
        }
    }
}

/// The login and registration limits of docs/api.md (429 + Retry-After). Limits are per instance:
/// N instances behind a balancer allow N times as much.
///
/// Logins are counted so that nobody can lock another user out: per (username, client address) —
/// the limit a guesser meets —, per client address, and per username alone only with a ceiling ten
/// times higher, which a guesser reaches only from many addresses at once (the user's own
/// address keeps its own budget below that). As identity servers do, failed and successful
/// attempts count alike, so the limiter never tells whether a guess was right.
@LoopActor
public final class AccountRateLimits {
    /// How much higher the username-wide ceiling is than the per-(username, address) limit.
    public nonisolated static let usernameCeilingFactor = 10

    private var loginByUserAndAddress: RateLimiter
    private var loginByUser: RateLimiter
    private var loginByAddress: RateLimiter
    private var registerByAddress: RateLimiter
    private var passwordByAccount: RateLimiter
    private let now: @Sendable () -> Double

    public init(loginPerUserPerMinute: Int, loginPerAddressPerMinute: Int, registerPerAddressPerHour: Int,
                passwordChangesPerAccountPerHour: Int, now: @escaping @Sendable () -> Double) {
        passwordByAccount = RateLimiter(burst: passwordChangesPerAccountPerHour, per: 3600 / Double(passwordChangesPerAccountPerHour))
        loginByUserAndAddress = RateLimiter(burst: loginPerUserPerMinute, per: 60 / Double(loginPerUserPerMinute))
        let ceiling = loginPerUserPerMinute * Self.usernameCeilingFactor
        loginByUser = RateLimiter(burst: ceiling, per: 60 / Double(ceiling))
        loginByAddress = RateLimiter(burst: loginPerAddressPerMinute, per: 60 / Double(loginPerAddressPerMinute))
        registerByAddress = RateLimiter(burst: registerPerAddressPerHour, per: 3600 / Double(registerPerAddressPerHour))
        self.now = now
    }

    /// Seconds to wait, or nil when the attempt may go ahead. The username counts as it would log in
    /// (case and JID form folded), so variants of one name share a bucket; names that cannot log in
    /// (too long for stringprep, or refused by it) share one bucket of their own, so that no key is
    /// long and no oversized name reaches nodeprep.
    public func login(username: String, address: String) -> Int? {
        let time = now()
        if let wait = loginByAddress.attempt(address, now: time) { return wait }
        // A bare JID counts as its localpart, whatever its domain (a wrong domain fails the login anyway).
        let user = AccountRules.localpart(JID(username)?.localpart ?? username) ?? ""
        if let wait = loginByUserAndAddress.attempt(user + "\u{0}" + address, now: time) { return wait }
        return loginByUser.attempt(user, now: time)
    }

    /// Keys held by each limiter, for `/metrics` (``RateLimiter/keyCount``).
    public var keyCounts: [(limiter: String, keys: Int)] {
        [("login_by_address", loginByAddress.keyCount), ("login_by_user_and_address", loginByUserAndAddress.keyCount),
         ("login_by_user", loginByUser.keyCount), ("register_by_address", registerByAddress.keyCount),
         ("password_by_account", passwordByAccount.keyCount)]
    }

    public func register(address: String) -> Int? { registerByAddress.attempt(address, now: now()) }

    /// Password changes of one account (the token's), whatever the outcome.
    public func passwordChange(jid: String) -> Int? { passwordByAccount.attempt(jid, now: now()) }
}
