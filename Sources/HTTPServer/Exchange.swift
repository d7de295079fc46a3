import CMHD
import Loop

/// A request whose body is still arriving, or whose deferred handler is running: what MHD told us so
/// far, and the answer once known. Requests answered on MHD's first call need none.
@LoopActor
final class Exchange {
    let method: HTTPMethod?
    let path: String
    let connection: OpaquePointer
    let match: Router.Match
    var body: [UInt8] = []
    var receivedBytes = 0
    /// The response of a deferred route, waiting for MHD to call back after the resume.
    var response: HTTPResponse?
    /// A response was queued before the body was complete (404, 405, 413): discard the rest.
    var answered = false
    var started = false
    /// ``RequestID``, fixed when the headers arrive.
    let requestID: String
    /// When the headers arrived (monotonic nanoseconds), for the access line's duration.
    let arrived: UInt64

    init(method: HTTPMethod?, path: String, connection: OpaquePointer, match: Router.Match, requestID: String, arrived: UInt64) {
        self.method = method
        self.path = path
        self.connection = connection
        self.match = match
        self.requestID = requestID
        self.arrived = arrived
    }

    /// The matched route's index, nil for a 404 or 405.
    var route: Int? {
        if case .found(_, _, let route) = match { route } else { nil }
    }

    func dispatch(_ refusals: ServerRefusal.Responder) -> RouteOutcome {
        guard case .found(let handler, let parameters, _) = match, let method else { return .answered(refusals(.notFound)) }
        var request = HTTPRequest(method: method, path: path, connection: connection, body: body)
        request.pathParameters = parameters
        switch handler {
        case .fixed(let prepared): return .answered(prepared.response)
        case .immediate(let answer): return .answered(answer(request))
        case .deferred(let work): return .running { await work(request) }
        case .adaptive(let decide): return decide(request)
        }
    }
}
