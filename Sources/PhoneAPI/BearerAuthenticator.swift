public import HTTPServer
public import JSONAPI
public import Loop
public import Services

/// Checks `Authorization: Bearer <token>` on protected routes and yields the caller's JID.
///
/// Verified tokens are remembered (subject, expiry, version) so that a client's repeated requests
/// with the same token skip the MAC and the JSON parse. A cached token is still refused once expired.
/// The lookup hashes the whole token with Swift's per-process random seed, so its timing tells an
/// attacker nothing about any cached token. The token's credential version must still be the
/// account's (``CredentialVersions``): answered from memory when fresh, else from the database.
@LoopActor
public final class BearerAuthenticator {
    /// Enough for every active client of one instance; when full, the cache starts over.
    public static let cacheCapacity = 10_000

    private let signer: ClientTokenSigner
    private let versions: CredentialVersions
    private let now: @Sendable () -> Int64
    private var verified: [String: ClientTokenSigner.VerifiedClaims] = [:]

    public init(signer: ClientTokenSigner, versions: CredentialVersions, now: @escaping @Sendable () -> Int64) {
        self.signer = signer
        self.versions = versions
        self.now = now
    }

    public enum Authentication {
        case accepted(jid: String)
        case rejected(APIError)
        /// The token is genuine; whether its version is still current needs the database.
        case needsVersionCheck(jid: String, version: Int64)
    }

    public func authenticate(_ request: HTTPRequest) -> Authentication {
        guard let header = request.header("authorization") else { return .rejected(.invalidToken(tokenPresent: false)) }
        guard let token = Self.bearerToken(header) else { return .rejected(.invalidToken(tokenPresent: true)) }
        let time = now()
        let claims: ClientTokenSigner.VerifiedClaims
        if let known = verified[token], known.expiresAt > time {
            claims = known
        } else {
            guard case .success(let fresh) = signer.verifyClaims(token, now: time) else { return .rejected(.invalidToken(tokenPresent: true)) }
            if verified.count >= Self.cacheCapacity { verified.removeAll(keepingCapacity: true) }
            verified[token] = fresh
            claims = fresh
        }
        switch versions.cached(claims.subject) {
        case .some(let current): return Self.decide(claims.subject, claims.version, current)
        case .none: return .needsVersionCheck(jid: claims.subject, version: claims.version)
        }
    }

    /// The version check against the database (after ``authenticate(_:)`` asked for it).
    public func checkVersion(jid: String, version: Int64) async -> Authentication {
        do {
            return Self.decide(jid, version, try await versions.current(jid))
        } catch {
            return .rejected(APIError(error))
        }
    }

    private static func decide(_ jid: String, _ version: Int64, _ current: Int64?) -> Authentication {
        current == version ? .accepted(jid: jid) : .rejected(.invalidToken(tokenPresent: true))
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
    /// A route that needs no I/O of its own but a valid bearer token: answered at once when the
    /// token's version is known fresh, else after the version check. `answer` gets the caller's JID.
    public static func authenticated(_ auth: BearerAuthenticator,
                                     _ answer: @escaping @Sendable @LoopActor (HTTPRequest, String) -> HTTPResponse) -> RouteHandler {
        .adaptive { request in
            switch auth.authenticate(request) {
            case .accepted(let jid): return .answered(answer(request, jid))
            case .rejected(let error): return .answered(error.response)
            case .needsVersionCheck(let jid, let version):
                return .running {
                    switch await auth.checkVersion(jid: jid, version: version) {
                    case .accepted(let jid): return answer(request, jid)
                    case .rejected(let error): return error.response
                    case .needsVersionCheck: return APIError.internalError.response
                    }
                }
            }
        }
    }

    /// A route with its own I/O that needs a valid bearer token; `work` gets the caller's JID.
    public static func authenticatedDeferred(_ auth: BearerAuthenticator,
                                             _ work: @escaping @Sendable @LoopActor (HTTPRequest, String) async -> HTTPResponse) -> RouteHandler {
        .deferred { request in
            var outcome = auth.authenticate(request)
            if case .needsVersionCheck(let jid, let version) = outcome { outcome = await auth.checkVersion(jid: jid, version: version) }
            switch outcome {
            case .accepted(let jid):
                if let refusal = JSONBody.subjectRefusal(request, account: jid) { return refusal.response }
                return await work(request, jid)
            case .rejected(let error): return error.response
            case .needsVersionCheck: return APIError.internalError.response
            }
        }
    }
}
