import Codecs
import Postgres
public import HTTPServer
import JSONAPI
import Loop
public import Services

/// `POST /api/v1/push/register` and `DELETE /api/v1/push/register` (docs/api.md).
public enum PushRoutes {
    struct Register: Decodable, Sendable {
        let device_uuid: String
        let platform: String
        let push_token: String
        let voip_token: String?
        let app_id: String
        let environment: String?
    }

    struct Unregister: Decodable, Sendable {
        let device_uuid: String
    }

    /// `appIDs`: the apps devices may register for (`APP_IDS`), nil for any.
    public static func install(on router: inout Router, registrations: PushRegistry, pushJID: String, appIDs: Set<String>?,
                               auth: BearerAuthenticator) {
        router.add(.POST, "/api/v1/push/register", .authenticatedDeferred(auth) { request, jid in
            let body: Register
            switch JSONBody.decode(Register.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): body = decoded
            }
            let device: PushDevice
            switch PushDevice.validated(uuid: body.device_uuid, platform: body.platform, pushToken: body.push_token,
                                        voipToken: body.voip_token, appID: body.app_id, environment: body.environment,
                                        allowedAppIDs: appIDs) {
            case .failure(let invalid): return APIError.invalidRequest("Field '\(invalid.field)' must be \(invalid.rule).").response
            case .success(let valid): device = valid
            }
            do {
                let binding = try await registrations.register(device, for: jid)
                return .json(.object([("push_jid", .string(pushJID)), ("node", .string(binding.node)), ("secret", .string(binding.secret))]))
            } catch {
                return APIError(error as? DatabaseError ?? .unavailable("\(error)")).response
            }
        })
        router.add(.DELETE, "/api/v1/push/register", .authenticatedDeferred(auth) { request, jid in
            switch JSONBody.decode(Unregister.self, from: request) {
            case .failure(let error): return error.response
            case .success(let body):
                do {
                    try await registrations.unregister(deviceUUID: body.device_uuid, for: jid)
                    return .noContent()
                } catch {
                    return APIError(error as? DatabaseError ?? .unavailable("\(error)")).response
                }
            }
        })
    }
}
