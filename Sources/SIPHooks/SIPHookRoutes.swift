import Postgres
import Codecs
public import HTTPServer
import JSONAPI
import Loop
public import Services

/// Kamailio's hooks (docs/hooks.md): `GET /hooks/sip/ha1`, `POST /hooks/sip/call`,
/// `POST /hooks/sip/cancel`. Each route is guarded by the secret (``RouteHandler/guarded(by:_:)``); the HA1 hook answers from
/// memory when it can; the call hooks answer once the pushes are queued, never waiting on a provider.
public enum SIPHookRoutes {
    /// A JSON hook body whose `event` must name its kind.
    protocol Event: Decodable, Sendable {
        static var name: String { get }
        var event: String { get }
    }

    struct IncomingCall: Event {
        static let name = "incoming_call"
        let event: String
        let caller: String
        let caller_display: String?
        let callee: String
        let call_id: String
        let t_index: Int64?
        let t_label: Int64?
    }

    struct CallCancelled: Event {
        static let name = "call_cancelled"
        let event: String
        let caller: String
        let callee: String
        let call_id: String
        let reason: String?
    }

    /// `callBudget` is how many calls one caller may start (docs/hooks.md, "Calls"): every call wakes
    /// the callee's phones through the shared provider queues, so one account dialling in a loop must
    /// not fill them. Past it the call hook answers 429 and Kamailio gives the caller 480.
    public static func install(on router: inout Router, secret: HookSecret, ha1s: HA1Directory, calls: CallNotifier,
                               callBudget budget: RateBudget) {
        router.add(.GET, "/hooks/sip/ha1", .guarded(by: secret, .adaptive { request in
            let username = request.query("user") ?? "", realm = request.query("realm") ?? ""
            switch ha1s.answerNow(username: username, realm: realm) {
            case .known(let ha1): return .answered(ha1Response(ha1))
            case .unknown: return .answered(unknownUser.response)
            case .lookUp:
                return .running {
                    do throws(DatabaseError) {
                        return try await ha1s.lookup(username).map(ha1Response) ?? unknownUser.response
                    } catch {
                        return APIError(error).response
                    }
                }
            }
        }))
        router.add(.POST, "/hooks/sip/call", .guarded(by: secret, .deferred { request in
            let call: SIPCall
            switch decode(IncomingCall.self, request).flatMap({ body in
                invalidIfFailed(SIPCall.validated(callID: body.call_id, caller: body.caller, callerDisplay: body.caller_display, callee: body.callee))
            }) {
            case .failure(let error): return error.response
            case .success(let valid): call = valid
            }
            if let wait = budget.spend(call.caller) { return APIError.rateLimited(retryAfterSeconds: wait).response }
            do throws(DatabaseError) {
                switch try await calls.ring(call) {
                case .queued(let devices), .alreadyRinging(let devices): return queued(devices, status: 202)
                case .unreachable: return unreachable.response
                case .busy: return pushQueueFull.response
                }
            } catch {
                return APIError(error).response
            }
        }))
        router.add(.POST, "/hooks/sip/cancel", .guarded(by: secret, .deferred { request in
            let call: SIPCall, reason: SIPCall.CancelReason
            switch decode(CallCancelled.self, request).flatMap({ body in
                invalidIfFailed(SIPCall.validated(callID: body.call_id, caller: body.caller, callerDisplay: nil, callee: body.callee)
                    .flatMap { call in SIPCall.reason(body.reason).map { (call, $0) } })
            }) {
            case .failure(let error): return error.response
            case .success(let valid): (call, reason) = valid
            }
            do throws(DatabaseError) {
                return queued(try await calls.cancel(callID: call.callID, callee: call.callee, reason: reason), status: 200)
            } catch {
                return APIError(error).response
            }
        }))
    }

    /// The JSON body and its `event` (the secret was checked by the route's guard).
    private static func decode<T: Event>(_ type: T.Type, _ request: HTTPRequest) -> Result<T, APIError> {
        JSONBody.decode(T.self, from: request).flatMap { body in
            body.event == T.name ? .success(body) : .failure(.invalidRequest("Field 'event' must be \"\(T.name)\"."))
        }
    }

    private static func invalidIfFailed<T>(_ result: Result<T, SIPCall.Invalid>) -> Result<T, APIError> {
        result.mapError { .invalidRequest("Field '\($0.field)' must be \($0.rule).") }
    }

    private static func ha1Response(_ ha1: String) -> HTTPResponse { .json(.object([("ha1", .string(ha1))])) }

    private static func queued(_ devices: Int, status: Int) -> HTTPResponse {
        .json(.object([("status", .string("queued")), ("devices", .int(devices))]), status: status)
    }

    static let unknownUser = APIError(status: 404, code: "unknown_user", message: "No such SIP user in this realm.")
    static let unreachable = APIError(status: 404, code: "callee_unreachable",
                                      message: "The callee does not exist or has no device that can receive a call push.")
    static let pushQueueFull = APIError(status: 503, code: "push_queue_full", message: "The push queues are full; try again shortly.",
                                        headers: [("Retry-After", "1")])
}
