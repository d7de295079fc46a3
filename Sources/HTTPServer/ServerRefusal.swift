/// What the server answers by itself, before or instead of a route. The server gives these no body
/// of its own choosing: whoever starts it passes a ``Responder`` (the API layer's JSON errors).
public enum ServerRefusal: Sendable, Equatable {
    /// No route has this path.
    case notFound
    /// A route has this path, for other methods.
    case methodNotAllowed(allowed: [HTTPMethod])
    /// The body is over the server's limit (declared, or counted as it arrived).
    case payloadTooLarge(limit: Int)
    /// The server lost track of a request (never expected).
    case internalError
    /// The route did not answer within ``HTTPServer/Limits/requestDeadlineSeconds``.
    case timedOut

    public typealias Responder = @Sendable (ServerRefusal) -> HTTPResponse

    /// A body-less answer with the right status (and `Allow` for 405): for tests and tools.
    public static let plainText: Responder = { refusal in
        switch refusal {
        case .notFound: return HTTPResponse(status: 404)
        case .methodNotAllowed(let allowed): return HTTPResponse(status: 405, headers: [("Allow", allowed.map(\.rawValue).joined(separator: ", "))])
        case .payloadTooLarge: return HTTPResponse(status: 413, headers: [("Connection", "close")])
        case .internalError: return HTTPResponse(status: 500)
        case .timedOut: return HTTPResponse(status: 503, headers: [("Retry-After", "1")])
        }
    }
}
