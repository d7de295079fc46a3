import Codecs
public import Config
public import HTTPServer
import JSONAPI
public import Loop
import Postgres
public import Services
import XMPP

/// The operator endpoints on the internal listener (docs/operations.md), behind ``AdminToken``;
/// not served at all without `ADMIN_TOKEN`:
/// - `GET /admin/v1/accounts/{jid}/devices`: an account's devices with their last push outcome;
/// - `POST /admin/v1/devices/{device_id}/test-push`: a push sent now, answered with the provider's verdict;
/// - `GET /admin/v1/status`: providers, queues, components and databases.
@LoopActor
public enum OperatorRoutes {
    /// What `/admin/v1/status` reports beside the providers: each component's and database's state.
    public typealias Dependencies = @Sendable @LoopActor () -> (components: [(String, Bool)], databases: [(String, Bool)])

    /// A test push gives up after this long, well inside the server's request deadline.
    static let testPushDeadlineSeconds = 10.0

    public static func install(on router: inout Router, token: AdminToken, registry: PushRegistry, delivery: PushDelivery,
                               configuration: Configuration, dependencies: @escaping Dependencies) {
        func admin(_ handler: RouteHandler) -> RouteHandler { handler.guarded(by: token.admits, refused: AdminToken.refused.response) }
        router.add(.GET, "/admin/v1/accounts/{jid}/devices", admin(.deferred { request in
            guard let jid = accountJID(request.pathParameters["jid"] ?? "", domain: configuration.xmppDomain) else {
                return APIError.invalidRequest("The path must name an account: a username or a bare JID.").response
            }
            do throws(DatabaseError) {
                let devices = try await registry.devices(of: jid)
                return .json(.object([("jid", .string(jid)), ("devices", .array(devices.map { describe($0, last: delivery.lastEnding(device: $0.deviceUUID)) }))]))
            } catch {
                return APIError(error).response
            }
        }))
        router.add(.POST, "/admin/v1/devices/{device_id}/test-push", admin(.deferred { request in
            await testPush(request, registry: registry, delivery: delivery, configuration: configuration)
        }))
        router.add(.GET, "/admin/v1/status", admin(.immediate { _ in
            let state = dependencies()
            return .json(.object([
                ("version", .string(BuildInfo.version)),
                ("providers", .object(PushPlatform.allCases.map { ($0.rawValue, providerStatus($0, delivery)) })),
                ("components", .object(state.components.map { ($0.0, .bool($0.1)) })),
                ("databases", .object(state.databases.map { ($0.0, .bool($0.1)) })),
            ]))
        }))
    }

    /// `alice` or `alice@example.com` (or a full JID) as the bare JID registrations are stored
    /// under: the localpart as it logs in (nodeprep), the domain lowercased.
    nonisolated static func accountJID(_ raw: String, domain: String) -> String? {
        guard let jid = JID(raw), !jid.domain.contains("@") else { return nil }
        guard let localpart = AccountRules.localpart(jid.localpart ?? jid.domain) else { return nil }
        return "\(localpart)@\(jid.localpart == nil ? domain : jid.domain.lowercased())"
    }

    private struct TestPushRequest: Decodable { let kind: String? }

    private static func testPush(_ request: HTTPRequest, registry: PushRegistry, delivery: PushDelivery,
                                 configuration: Configuration) async -> HTTPResponse {
        var kindName = "alert"
        if !request.body.isEmpty {
            switch JSONBody.decode(TestPushRequest.self, from: request) {
            case .success(let body): kindName = body.kind ?? kindName
            case .failure(let error): return error.response
            }
        }
        guard kindName == "alert" || kindName == "voip" else {
            return APIError.invalidRequest("kind must be \"alert\" or \"voip\".").response
        }
        let device: RegisteredDevice?
        do throws(DatabaseError) {
            device = try await registry.device(request.pathParameters["device_id"] ?? "")
        } catch {
            return APIError(error).response
        }
        guard let device else { return APIError.notFound.response }
        let call = kindName == "voip"
        guard let target = device.target(call: call) else {
            return APIError(status: 409, code: "no_usable_token",
                            message: "This device has no live \(call && device.platform.hasVoIPToken ? "VoIP" : "push") token.").response
        }
        let kind: PushKind = call
            ? .call(callID: "switchboard-test-\(Int64(LoopClock.system.epochSeconds()))", caller: "switchboard-test@\(configuration.xmppDomain)",
                    callerDisplay: "Switchboard test call", callee: device.jid,
                    deadline: LoopClock.system.epochSeconds() + Int64(testPushDeadlineSeconds))
            : .message(sender: nil, conversation: nil)
        let ending = await delivery.send(kind, to: target, deadline: testPushDeadlineSeconds)
        return .json(.object([("device_id", .string(device.deviceUUID)), ("platform", .string(device.platform.rawValue)),
                              ("kind", .string(kindName)), ("outcome", describe(ending))]))
    }

    private static func describe(_ device: RegisteredDevice, last: PushEnding?) -> JSONValue {
        .object([
            ("device_id", .string(device.deviceUUID)), ("platform", .string(device.platform.rawValue)), ("app_id", .string(device.appID)),
            ("environment", .string(device.sandbox ? "sandbox" : "production")),
            ("push_token", .string(PushDelivery.tokenPart(device.pushToken))),
            ("push_token_dead_at", device.pushTokenDeadAt.map(JSONValue.int64) ?? .null),
            ("voip_token", device.voipToken.map { .string(PushDelivery.tokenPart($0)) } ?? .null),
            ("voip_token_dead_at", device.voipTokenDeadAt.map(JSONValue.int64) ?? .null),
            ("registered_at", .int64(device.updatedAt)),
            ("last_push", last.map(describe) ?? .null),
        ])
    }

    private static func describe(_ ending: PushEnding) -> JSONValue {
        .object([("result", .string(ending.result.rawValue)), ("reason", ending.reason.map(JSONValue.string) ?? .null),
                 ("message_id", ending.messageID.map(JSONValue.string) ?? .null), ("attempts", .int(ending.attempts)),
                 ("kind", .string(ending.kind)), ("at", .int64(ending.endedAt))])
    }

    private static func providerStatus(_ platform: PushPlatform, _ delivery: PushDelivery) -> JSONValue {
        guard let connections = delivery.connections(platform), let requests = delivery.requests(platform) else {
            return .object([("configured", .bool(false))])
        }
        let counters = delivery.counters[platform] ?? PushDelivery.Counters()
        return .object([
            ("configured", .bool(true)),
            ("queue", .object([("call", .int(delivery.pending(platform, call: true))), ("message", .int(delivery.pending(platform, call: false)))])),
            ("requests", .object([("in_flight", .int(requests.inFlight)), ("waiting", .int(requests.waiting))])),
            ("connections", .object([("opened", .int(connections.opened)), ("retired", .int(connections.retired))])),
            ("pushes", .object([("sent", .int(counters.sent)), ("failed", .int(counters.failed)), ("dead_token", .int(counters.dead)),
                                ("retried", .int(counters.retried))])),
        ])
    }
}
