import CMHD
import Loop

/// One request on its way through the server: what MHD told us so far, and the answer once known.
@LoopActor
final class Exchange {
    enum Dispatch {
        case answered(HTTPResponse)
        case running(@Sendable @LoopActor () async -> HTTPResponse)
    }

    let method: HTTPMethod?
    let path: String
    let headers: [String: String]
    let query: [String: String]
    let match: Router.Match
    var body: [UInt8] = []
    var receivedBytes = 0
    /// The response of a deferred route, waiting for MHD to call back after the resume.
    var response: HTTPResponse?
    /// A response was queued before the body was complete (404, 405, 413): discard the rest.
    var answered = false
    var started = false

    init(method: String, url: String, connection: OpaquePointer, router: Router) {
        self.method = HTTPMethod(rawValue: method)
        path = url
        headers = Self.values(of: connection, kind: .HEADER_KIND, lowercased: true)
        query = Self.values(of: connection, kind: .GET_ARGUMENT_KIND, lowercased: false)
        match = router.match(self.method, url)
    }

    /// The answer that needs no body: unknown path, wrong method, or a declared length over the limit.
    func earlyResponse(maximumBodyBytes: Int) -> HTTPResponse? {
        let early: APIError?
        switch match {
        case .notFound: early = .notFound
        case .methodNotAllowed(let allowed): early = .methodNotAllowed(allow: allowed)
        case .found:
            let declared = headers["content-length"].flatMap { Int($0) } ?? 0
            early = declared > maximumBodyBytes ? .payloadTooLarge : nil
        }
        answered = early != nil
        return early?.response
    }

    func dispatch() -> Dispatch {
        guard case .found(let handler, let parameters) = match, let method else { return .answered(APIError.notFound.response) }
        var request = HTTPRequest(method: method, path: path, headers: headers, query: query, body: body)
        request.pathParameters = parameters
        switch handler {
        case .immediate(let answer): return .answered(answer(request))
        case .deferred(let work): return .running { await work(request) }
        }
    }

    private static func values(of connection: OpaquePointer, kind: MHD_ValueKind, lowercased: Bool) -> [String: String] {
        final class Collector { var values: [String: String] = [:]; var lowercased = false }
        let collector = Collector()
        collector.lowercased = lowercased
        let context = Unmanaged.passUnretained(collector).toOpaque()
        _ = withExtendedLifetime(collector) {
            MHD_get_connection_values(connection, kind, { context, _, key, value in
                guard let context, let key else { return MHD_Result.YES }
                let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
                let name = String(cString: key)
                collector.values[collector.lowercased ? name.lowercased() : name] = value.map { String(cString: $0) } ?? ""
                return MHD_Result.YES
            }, context)
        }
        return collector.values
    }
}
