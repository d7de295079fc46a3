import Loop

/// How a route answers. Most routes need I/O and are `deferred` (the connection is suspended while
/// the task runs); routes that only compute (TURN credentials) are `immediate` and answer within the
/// same MHD call, which saves the suspend/resume round trip; routes whose answer never changes
/// (server info, liveness) are `fixed`, and MHD reuses one prepared response for them.
public enum RouteHandler: Sendable {
    case fixed(PreparedResponse)
    case immediate(@Sendable @LoopActor (HTTPRequest) -> HTTPResponse)
    case deferred(@Sendable @LoopActor (HTTPRequest) async -> HTTPResponse)
    /// Decides per request: answer now when it can (e.g. a cached check), or run async work.
    case adaptive(@Sendable @LoopActor (HTTPRequest) -> RouteOutcome)
}

/// What an adaptive route (and the server internally) does with one request.
public enum RouteOutcome: Sendable {
    case answered(HTTPResponse)
    case running(@Sendable @LoopActor () async -> HTTPResponse)
}

/// Maps method and path to a handler. Patterns are literal segments and `{name}` parameters:
/// `/api/v1/groups/{jid}/members`. Matching is exact per segment; a trailing slash is a different path.
/// A last parameter written `{name...}` takes the rest of the path, slashes included (a SIP Call-ID may
/// hold one, and MHD hands routes the path with `%2F` already decoded).
public struct Router: Sendable {
    public enum Match {
        /// `route` identifies the route for ``handler(ofRoute:)`` and ``parameters(ofRoute:path:)``.
        case found(RouteHandler, parameters: [String: String], route: Int)
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    private enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        /// `{name...}`, last only: one or more segments, joined again with "/".
        case rest(String)
    }

    private struct Route: Sendable {
        let method: HTTPMethod
        let pattern: String
        let segments: [Segment]
        var handler: RouteHandler
        var takesRest: Bool { if case .rest = segments.last { true } else { false } }
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: RouteHandler) {
        let segments = Self.split(pattern).map { part -> Segment in
            guard part.hasPrefix("{") && part.hasSuffix("}") else { return .literal(String(part)) }
            let name = part.dropFirst().dropLast()
            return name.hasSuffix("...") ? .rest(String(name.dropLast(3))) : .parameter(String(name))
        }
        precondition(!segments.dropLast().contains { if case .rest = $0 { true } else { false } }, "{name...} must be last in \(pattern)")
        precondition(!routes.contains { $0.method == method && $0.segments == segments }, "route \(method) \(pattern) added twice")
        routes.append(Route(method: method, pattern: pattern, segments: segments, handler: handler))
    }

    public func match(_ method: HTTPMethod?, _ path: String) -> Match {
        let parts = Self.split(path)
        var allowed: [HTTPMethod] = []
        for (index, route) in routes.enumerated() where route.segments.count == parts.count || route.takesRest && parts.count > route.segments.count {
            guard let parameters = Self.bind(route.segments, to: parts) else { continue }
            if route.method == method { return .found(route.handler, parameters: parameters, route: index) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    public func handler(ofRoute index: Int) -> RouteHandler { routes[index].handler }

    /// The pattern a route was added with (`/api/v1/groups/{jid}/members`), for logs and metrics.
    public func pattern(ofRoute index: Int) -> String { routes[index].pattern }

    /// The path parameters of `path` for a route it matched before (no work for routes without any).
    public func parameters(ofRoute index: Int, path: String) -> [String: String] {
        let segments = routes[index].segments
        guard segments.contains(where: { if case .literal = $0 { return false } else { return true } }) else { return [:] }
        return Self.bind(segments, to: Self.split(path)) ?? [:]
    }

    /// The segments after the leading "/" (empty ones kept, so matching is exact). Splits on the
    /// UTF-8 view: `String.split` works on Characters and showed up in profiles.
    private static func split(_ path: String) -> [Substring] {
        var segments: [Substring] = []
        segments.reserveCapacity(8)
        let utf8 = path.utf8
        guard utf8.first == UInt8(ascii: "/") else { return [Substring(path)] }
        var start = utf8.index(after: utf8.startIndex)
        var i = start
        while i != utf8.endIndex {
            if utf8[i] == UInt8(ascii: "/") {
                segments.append(path[start..<i])
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        segments.append(path[start..<utf8.endIndex])
        return segments
    }

    private static func bind(_ segments: [Segment], to parts: [Substring]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (position, segment) in segments.enumerated() {
            guard position < parts.count else { return nil }
            let part = parts[position]
            switch segment {
            case .literal(let text): guard part == text else { return nil }
            case .parameter(let name): guard !part.isEmpty else { return nil }; parameters[name] = String(part)
            case .rest(let name):
                let rest = parts[position...].joined(separator: "/")
                guard !rest.isEmpty else { return nil }
                parameters[name] = rest
                return parameters
            }
        }
        return parts.count == segments.count ? parameters : nil
    }
}
