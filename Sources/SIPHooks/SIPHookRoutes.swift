import HTTP
import Loop
import Services

/// Kamailio's hooks (CONTRACTS §2): `GET /hooks/sip/ha1`, `POST /hooks/sip/call`,
/// `POST /hooks/sip/cancel`. The secret is checked before anything else; the HA1 hook answers from
/// memory when it can; the call hooks answer once the pushes are queued, never waiting on a provider.
public enum SIPHookRoutes {
    struct IncomingCall: Decodable, Sendable {
        let event: String
        let caller: String
        let caller_display: String?
        let callee: String
        let call_id: String
        let t_index: Int64?
        let t_label: Int64?
    }

    struct CallCancelled: Decodable, Sendable {
        let event: String
        let caller: String
        let callee: String
        let call_id: String
        let reason: String?
    }

    public static func install(on router: inout Router, secret: HookSecret, ha1s: HA1Directory, calls: CallNotifier) {
        router.add(.GET, "/hooks/sip/ha1", .adaptive { request in
            guard secret.admits(request) else { return .answered(HookSecret.refused.response) }
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
        })
        router.add(.POST, "/hooks/sip/call", .deferred { request in
            guard secret.admits(request) else { return HookSecret.refused.response }
            let body: IncomingCall
            switch JSONBody.decode(IncomingCall.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): body = decoded
            }
            guard body.event == "incoming_call" else { return APIError.invalidRequest("Field 'event' must be \"incoming_call\".").response }
            let call: SIPCall
            switch SIPCall.validated(callID: body.call_id, caller: body.caller, callerDisplay: body.caller_display, callee: body.callee) {
            case .failure(let invalid): return APIError.invalidRequest("Field '\(invalid.field)' must be \(invalid.rule).").response
            case .success(let valid): call = valid
            }
            do throws(DatabaseError) {
                switch try await calls.ring(call) {
                case .queued(let devices), .alreadyRinging(let devices): return queued(devices, status: 202)
                case .unreachable: return unreachable.response
                case .busy: return pushQueueFull.response
                }
            } catch {
                return APIError(error).response
            }
        })
        router.add(.POST, "/hooks/sip/cancel", .deferred { request in
            guard secret.admits(request) else { return HookSecret.refused.response }
            let body: CallCancelled
            switch JSONBody.decode(CallCancelled.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): body = decoded
            }
            guard body.event == "call_cancelled" else { return APIError.invalidRequest("Field 'event' must be \"call_cancelled\".").response }
            let call: SIPCall, reason: SIPCall.CancelReason
            switch SIPCall.validated(callID: body.call_id, caller: body.caller, callerDisplay: nil, callee: body.callee)
                .flatMap({ call in SIPCall.reason(body.reason).map { (call, $0) } }) {
            case .failure(let invalid): return APIError.invalidRequest("Field '\(invalid.field)' must be \(invalid.rule).").response
            case .success(let valid): (call, reason) = valid
            }
            do throws(DatabaseError) {
                return queued(try await calls.cancel(callID: call.callID, callee: call.callee, reason: reason), status: 200)
            } catch {
                return APIError(error).response
            }
        })
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
