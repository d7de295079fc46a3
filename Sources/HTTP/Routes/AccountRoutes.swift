import Loop
import Services

/// `POST /api/v1/account/register` and `POST /api/v1/account/login` (CONTRACTS §1).
public enum AccountRoutes {
    struct Credentials: Decodable {
        let username: String
        let password: String
    }

    public static func install(on router: inout Router, accounts: AccountService) {
        router.add(.POST, "/api/v1/account/register", .deferred { request in
            await answer(request, status: 201) { await accounts.register(username: $0.username, password: $0.password) }
        })
        router.add(.POST, "/api/v1/account/login", .deferred { request in
            await answer(request, status: 200) { await accounts.login(username: $0.username, password: $0.password) }
        })
    }

    private static func answer(_ request: HTTPRequest, status: Int,
                               _ run: @LoopActor (Credentials) async -> Result<AccountService.Session, AccountService.Failure>) async -> HTTPResponse {
        switch JSONBody.decode(Credentials.self, from: request) {
        case .failure(let error):
            return error.response
        case .success(let credentials):
            switch await run(credentials) {
            case .success(let session): return .json(json(session), status: status)
            case .failure(let failure): return APIError(failure).response
            }
        }
    }

    /// The session shape of CONTRACTS §1.
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
        }
    }
}
