import Crypto
public import HTTPServer
public import JSONAPI
import Services

/// The shared secret Kamailio sends in `X-Hook-Secret` (docs/hooks.md). Compared as SHA-256 digests in
/// constant time, so neither the content nor the length of the secret leaks through timing.
public struct HookSecret: Sendable {
    public static let header = "X-Hook-Secret"
    private let digest: [UInt8]

    public init(_ secret: String) {
        digest = Digest.sha256(Array(secret.utf8))
    }

    public func admits(_ request: HTTPRequest) -> Bool {
        guard let offered = request.header(Self.header) else { return false }
        return ConstantTime.equals(Digest.sha256(Array(offered.utf8)), digest)
    }

    public static let refused = APIError(status: 401, code: "invalid_hook_secret",
                                         message: "The X-Hook-Secret header is missing or wrong.")
}

extension RouteHandler {
    /// A hook route behind the secret: a request without it gets 401 `invalid_hook_secret` and
    /// `handler` never runs (docs/hooks.md).
    static func guarded(by secret: HookSecret, _ handler: RouteHandler) -> RouteHandler {
        let refused = HookSecret.refused.response
        switch handler {
        case .fixed(let prepared):
            return .immediate { request in secret.admits(request) ? prepared.response : refused }
        case .immediate(let answer):
            return .immediate { request in secret.admits(request) ? answer(request) : refused }
        case .deferred(let work):
            return .adaptive { request in secret.admits(request) ? .running { await work(request) } : .answered(refused) }
        case .adaptive(let decide):
            return .adaptive { request in secret.admits(request) ? decide(request) : .answered(refused) }
        }
    }
}
