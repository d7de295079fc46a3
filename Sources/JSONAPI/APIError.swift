public import Codecs
public import HTTPServer
public import Postgres

/// An error as clients see it (docs/api.md): `{"error":{"code","message"}}` with its status.
public struct APIError: Error, Sendable, Equatable {
    public let status: Int
    public let code: String
    public let message: String
    public var headers: [(String, String)] = []

    public init(status: Int, code: String, message: String, headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func == (a: APIError, b: APIError) -> Bool {
        a.status == b.status && a.code == b.code && a.message == b.message
    }

    public var response: HTTPResponse {
        var r = HTTPResponse.json(.object([("error", .object([("code", .string(code)), ("message", .string(message))]))]), status: status)
        r.headers += headers
        return r
    }

    // MARK: The errors of the contract

    public static func invalidRequest(_ message: String) -> APIError {
        APIError(status: 400, code: "invalid_request", message: message)
    }

    public static let notFound = APIError(status: 404, code: "not_found", message: "There is nothing at this path.")

    public static func methodNotAllowed(allow: [HTTPMethod]) -> APIError {
        APIError(status: 405, code: "method_not_allowed", message: "This path does not accept that method.",
                 headers: [("Allow", allow.map(\.rawValue).joined(separator: ", "))])
    }

    public static let payloadTooLarge = APIError(
        status: 413, code: "payload_too_large", message: "The request body is larger than 64 KiB.",
        headers: [("Connection", "close")])

    public static let unsupportedMediaType = APIError(
        status: 415, code: "unsupported_media_type", message: "Send the body as application/json.")

    /// 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3: no error attribute when no token was sent).
    public static func invalidToken(tokenPresent: Bool) -> APIError {
        APIError(status: 401, code: "invalid_token", message: "The bearer token is missing, malformed, expired or not valid.",
                 headers: [("WWW-Authenticate", tokenPresent ? #"Bearer error="invalid_token""# : "Bearer")])
    }

    public static let forbidden = APIError(status: 403, code: "forbidden", message: "This account may not do that.")

    public static func rateLimited(retryAfterSeconds: Int) -> APIError {
        APIError(status: 429, code: "rate_limited", message: "Too many requests; try again later.",
                 headers: [("Retry-After", String(retryAfterSeconds))])
    }

    public static let databaseUnavailable = APIError(
        status: 503, code: "database_unavailable", message: "The database is unavailable; try again shortly.",
        headers: [("Retry-After", "1")])

    public static let xmppUnavailable = APIError(
        status: 503, code: "xmpp_unavailable", message: "The XMPP server is unavailable; try again shortly.",
        headers: [("Retry-After", "1")])

    public static let internalError = APIError(status: 500, code: "internal_error", message: "Something went wrong on our side.")

    public static let requestTimedOut = APIError(
        status: 503, code: "timed_out", message: "The request took too long; try again shortly.",
        headers: [("Retry-After", "1")])
}

extension APIError {
    /// What a route answers when the database failed it: 503 `database_unavailable` for an outage or a
    /// statement past its deadline (retry later), 500 for an error PostgreSQL reported (a bug of ours).
    public init(_ error: DatabaseError) {
        switch error {
        case .unavailable, .timedOut: self = .databaseUnavailable
        case .server: self = .internalError
        }
    }
}

extension APIError {
    /// The contract's errors for what the HTTP server answers by itself (404, 405, 413).
    public init(_ refusal: ServerRefusal) {
        switch refusal {
        case .notFound: self = .notFound
        case .methodNotAllowed(let allowed): self = .methodNotAllowed(allow: allowed)
        case .payloadTooLarge: self = .payloadTooLarge
        case .internalError: self = .internalError
        case .timedOut: self = .requestTimedOut
        }
    }

    /// What `HTTPServer` is started with: its own refusals in the contract's JSON shape.
    public static let refusals: ServerRefusal.Responder = { APIError($0).response }
}

extension HTTPResponse {
    public static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: value.bytes)
    }
}
