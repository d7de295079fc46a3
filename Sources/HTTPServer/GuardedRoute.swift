extension RouteHandler {
    /// This handler behind a check: a request `admits` refuses gets `refused` and the handler never
    /// runs (the hooks' secret, the operator endpoints' token).
    public func guarded(by admits: @escaping @Sendable (HTTPRequest) -> Bool, refused: HTTPResponse) -> RouteHandler {
        switch self {
        case .fixed(let prepared):
            return .immediate { request in admits(request) ? prepared.response : refused }
        case .immediate(let answer):
            return .immediate { request in admits(request) ? answer(request) : refused }
        case .deferred(let work):
            return .adaptive { request in admits(request) ? .running { await work(request) } : .answered(refused) }
        case .adaptive(let decide):
            return .adaptive { request in admits(request) ? decide(request) : .answered(refused) }
        }
    }
}
