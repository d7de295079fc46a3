import Codecs
public import HTTPServer
public import JSONAPI
import Loop
public import Services

/// The group routes of docs/api.md: create, read, add and remove members, destroy.
public enum GroupRoutes {
    struct Create: Decodable {
        let name: String
        let members: [String]?
    }

    struct Members: Decodable {
        let members: [String]
    }

    /// `lookups` is how many member names one account may have looked up (docs/api.md, "Limits per
    /// account"). A member list answered 400 `invalid_member` or 201/200 tells whether every name in
    /// it is an account, so an unbounded stream of lists would enumerate the server's users, which
    /// login's uniform 401 hides (security review L10): every name in a list that is created or added
    /// spends one, whatever the answer.
    public static func install(on router: inout Router, groups: GroupService, lookups: RateBudget, auth: BearerAuthenticator) {
        router.add(.POST, "/api/v1/groups/create", .authenticatedDeferred(auth) { request, jid in
            await withBody(Create.self, request) { body in
                if let wait = lookups.spend(jid, cost: body.members?.count ?? 0) { return APIError.rateLimited(retryAfterSeconds: wait).response }
                return respond(await groups.create(owner: jid, name: body.name, members: body.members ?? []), status: 201)
            }
        })
        router.add(.GET, "/api/v1/groups/{jid}", .authenticatedDeferred(auth) { request, jid in
            respond(await groups.get(caller: jid, room: request.pathParameters["jid"] ?? ""))
        })
        router.add(.POST, "/api/v1/groups/{jid}/members", .authenticatedDeferred(auth) { request, jid in
            await withBody(Members.self, request) { body in
                if let wait = lookups.spend(jid, cost: body.members.count) { return APIError.rateLimited(retryAfterSeconds: wait).response }
                return respond(await groups.addMembers(caller: jid, room: request.pathParameters["jid"] ?? "", members: body.members))
            }
        })
        router.add(.DELETE, "/api/v1/groups/{jid}/members", .authenticatedDeferred(auth) { request, jid in
            await withBody(Members.self, request) { body in
                respond(await groups.removeMembers(caller: jid, room: request.pathParameters["jid"] ?? "", members: body.members))
            }
        })
        router.add(.DELETE, "/api/v1/groups/{jid}", .authenticatedDeferred(auth) { request, jid in
            switch await groups.destroy(caller: jid, room: request.pathParameters["jid"] ?? "") {
            case .success: return .noContent()
            case .failure(let failure): return APIError(failure).response
            }
        })
    }

    @LoopActor
    private static func withBody<T: Decodable & Sendable>(_ type: T.Type, _ request: HTTPRequest,
                                               _ run: @LoopActor (T) async -> HTTPResponse) async -> HTTPResponse {
        switch JSONBody.decode(type, from: request) {
        case .failure(let error): return error.response
        case .success(let body): return await run(body)
        }
    }

    @LoopActor
    private static func respond(_ result: Result<GroupService.Group, GroupService.Failure>, status: Int = 200) -> HTTPResponse {
        switch result {
        case .success(let group):
            return .json(.object([("jid", .string(group.jid)), ("name", .string(group.name)), ("owner", .string(group.owner)),
                                  ("members", .strings(group.members))]), status: status)
        case .failure(let failure):
            return APIError(failure).response
        }
    }
}

extension APIError {
    public init(_ failure: GroupService.Failure) {
        switch failure {
        case .invalidName: self = .invalidRequest("Field 'name' must be 1 to 100 characters of text, without control characters.")
        case .invalidMember: self = APIError(status: 400, code: "invalid_member", message: "Every member must be an account on this server.")
        case .notFound: self = .notFound
        case .forbidden: self = .forbidden
        case .xmppUnavailable: self = .xmppUnavailable
        case .databaseUnavailable: self = .databaseUnavailable
        case .limitReached: self = APIError(status: 409, code: "limit_reached", message: "This account owns as many groups as it may.")
        case .tooManyMembers: self = APIError(status: 400, code: "too_many_members", message: "A group has more members than it may.")
        }
    }
}
