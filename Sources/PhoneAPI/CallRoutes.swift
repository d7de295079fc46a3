import Codecs
public import HTTPServer
import JSONAPI
import Loop
import Postgres
public import Services

/// `GET /api/v1/calls/{call_id}` (docs/calls.md): a phone woken by a call push asks whether the call
/// still rings before it connects. The Call-ID may hold a slash, so the parameter takes the rest of
/// the path.
public enum CallRoutes {
    public static func install(on router: inout Router, calls: CallNotifier, auth: BearerAuthenticator) {
        router.add(.GET, "/api/v1/calls/{call_id...}", .authenticatedDeferred(auth) { request, jid in
            do throws(DatabaseError) {
                guard let call = try await calls.state(callID: request.pathParameters["call_id"] ?? "", for: jid) else {
                    // An unknown call and someone else's call look alike.
                    return APIError.notFound.response
                }
                return .json(.object([("call_id", .string(call.callID)), ("caller", .string(call.caller)), ("callee", .string(call.callee)),
                                      ("state", .string(call.phase.rawValue)), ("deadline", .int64(call.deadline))]))
            } catch {
                return APIError(error).response
            }
        })
    }
}
