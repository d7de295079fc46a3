import Crypto
public import HTTPServer
public import JSONAPI
import Services

/// The shared secret Kamailio sends in `X-Hook-Secret` (docs/hooks.md), compared in constant time
/// (``SharedSecret``).
public struct HookSecret: Sendable {
    public static let header = "X-Hook-Secret"
    private let secret: SharedSecret

    public init(_ secret: String) { self.secret = SharedSecret(secret) }

    public func admits(_ request: HTTPRequest) -> Bool { secret.matches(request.header(Self.header)) }

    public static let refused = APIError(status: 401, code: "invalid_hook_secret",
                                         message: "The X-Hook-Secret header is missing or wrong.")
}

extension RouteHandler {
    /// A hook route behind the secret: a request without it gets 401 `invalid_hook_secret` and
    /// `handler` never runs (docs/hooks.md).
    static func guarded(by secret: HookSecret, _ handler: RouteHandler) -> RouteHandler {
        handler.guarded(by: secret.admits, refused: HookSecret.refused.response)
    }
}
