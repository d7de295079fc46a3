import Loop
import Services

/// Checks `Authorization: Bearer <token>` on protected routes and yields the caller's JID.
///
/// Verified tokens are remembered (subject and expiry) so that a client's repeated requests with the
/// same token skip the MAC and the JSON parse. A cached token is still refused once expired. The
/// lookup hashes the whole token with Swift's per-process random seed, so its timing tells an
/// attacker nothing about any cached token.
@LoopActor
public final class BearerAuthenticator {
    /// Enough for every active client of one instance; when full, the cache starts over.
    public static let cacheCapacity = 10_000

    private let signer: ClientTokenSigner
    private let now: @Sendable () -> Int64
    private var verified: [String: (subject: String, expiresAt: Int64)] = [:]

    public init(signer: ClientTokenSigner, now: @escaping @Sendable () -> Int64) {
        self.signer = signer
        self.now = now
    }

    public func authenticate(_ request: HTTPRequest) -> Result<String, APIError> {
        guard let header = request.header("authorization") else { return .failure(.invalidToken(tokenPresent: false)) }
        guard let token = Self.bearerToken(header) else { return .failure(.invalidToken(tokenPresent: true)) }
        let time = now()
        if let known = verified[token], known.expiresAt > time { return .success(known.subject) }
        switch signer.verifyClaims(token, now: time) {
        case .success(let claims):
            if verified.count >= Self.cacheCapacity { verified.removeAll(keepingCapacity: true) }
            verified[token] = (claims.subject, claims.expiresAt)
            return .success(claims.subject)
        case .failure:
            return .failure(.invalidToken(tokenPresent: true))
        }
    }

    /// Forgets every cached token of `subject` (after a password change or account deletion).
    public func forget(subject: String) {
        verified = verified.filter { $0.value.subject != subject }
    }

    /// "Bearer" (any case), one or more spaces, the token (RFC 6750 §2.1).
    nonisolated static func bearerToken(_ header: String) -> String? {
        let utf8 = header.utf8
        let scheme = "bearer".utf8
        guard utf8.count > scheme.count, zip(utf8, scheme).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let afterScheme = utf8.index(utf8.startIndex, offsetBy: scheme.count)
        guard utf8[afterScheme] == 0x20 else { return nil }
        let token = utf8[afterScheme...].drop { $0 == 0x20 }
        return token.isEmpty ? nil : String(Substring(token))
    }
}

extension RouteHandler {
    /// An immediate route that requires a valid bearer token; `answer` gets the caller's JID.
    public static func authenticated(_ auth: BearerAuthenticator,
                                     _ answer: @escaping @Sendable @LoopActor (HTTPRequest, String) -> HTTPResponse) -> RouteHandler {
        .immediate { request in
            switch auth.authenticate(request) {
            case .success(let jid): return answer(request, jid)
            case .failure(let error): return error.response
            }
        }
    }
}
