import Foundation
import Loop
import Services

/// Checks `Authorization: Bearer <token>` on protected routes and yields the caller's JID.
public struct BearerAuthenticator: Sendable {
    private let signer: ClientTokenSigner
    private let now: @Sendable () -> Int64

    public init(signer: ClientTokenSigner, now: @escaping @Sendable () -> Int64) {
        self.signer = signer
        self.now = now
    }

    public func authenticate(_ request: HTTPRequest) -> Result<String, APIError> {
        guard let header = request.header("authorization") else { return .failure(.invalidToken(tokenPresent: false)) }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .failure(.invalidToken(tokenPresent: true)) }
        switch signer.verify(String(parts[1]).trimmingCharacters(in: .whitespaces), now: now()) {
        case .success(let jid): return .success(jid)
        case .failure: return .failure(.invalidToken(tokenPresent: true))
        }
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
