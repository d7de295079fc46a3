import Crypto
public import HTTPServer
public import JSONAPI

/// `ADMIN_TOKEN`: what an operator sends as `Authorization: Bearer <token>` to the operator
/// endpoints (docs/operations.md), compared in constant time (``SharedSecret``).
public struct AdminToken: Sendable {
    private let secret: SharedSecret

    public init(_ token: String) { secret = SharedSecret(token) }

    /// Whether the request carries the token (the scheme's case does not matter, RFC 9110).
    public func admits(_ request: HTTPRequest) -> Bool {
        guard let authorization = request.header("Authorization"), authorization.utf8.count > 7,
              authorization.prefix(7).lowercased() == "bearer " else { return false }
        return secret.matches(String(authorization.dropFirst(7)))
    }

    /// A missing and a wrong token are answered alike.
    public static let refused = APIError(status: 401, code: "invalid_admin_token",
                                         message: "The Authorization header must carry the server's ADMIN_TOKEN as a bearer token.",
                                         headers: [("WWW-Authenticate", "Bearer realm=\"switchboard-admin\"")])
}
