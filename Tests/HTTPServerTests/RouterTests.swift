import HTTPServer
@testable import JSONAPI
import Loop
import XCTest

final class RouterTests: XCTestCase {
    private func router() -> Router {
        var r = Router()
        r.add(.GET, "/api/v1/server/info", .immediate { _ in HTTPResponse(status: 200, body: Array("info".utf8)) })
        r.add(.GET, "/api/v1/groups/{jid}", .immediate { _ in HTTPResponse(status: 200) })
        r.add(.DELETE, "/api/v1/groups/{jid}", .immediate { _ in HTTPResponse(status: 204) })
        r.add(.POST, "/api/v1/groups/{jid}/members", .immediate { _ in HTTPResponse(status: 200) })
        r.add(.DELETE, "/api/v1/groups/{jid}/members", .immediate { _ in HTTPResponse(status: 200) })
        r.add(.POST, "/api/v1/groups/create", .immediate { _ in HTTPResponse(status: 201) })
        r.add(.GET, "/api/v1/calls/{call_id...}", .immediate { _ in HTTPResponse(status: 200) })
        return r
    }

    private func parameters(_ match: Router.Match) -> [String: String]? {
        if case .found(_, let parameters, _) = match { return parameters }
        return nil
    }

    func testLiteralRoutesMatchExactly() {
        XCTAssertEqual(parameters(router().match(.GET, "/api/v1/server/info")), [:])
        XCTAssertNil(parameters(router().match(.GET, "/api/v1/server/info/")), "a trailing slash is another path")
        XCTAssertNil(parameters(router().match(.GET, "/api/v1/server")))
        XCTAssertNil(parameters(router().match(.GET, "/API/v1/server/info")))
    }

    func testParametersAreBound() {
        XCTAssertEqual(parameters(router().match(.GET, "/api/v1/groups/abc@conference.example.com")),
                       ["jid": "abc@conference.example.com"])
        XCTAssertEqual(parameters(router().match(.POST, "/api/v1/groups/r1/members")), ["jid": "r1"])
        XCTAssertNil(parameters(router().match(.GET, "/api/v1/groups/")), "an empty parameter does not match")
    }

    func testLiteralAndParameterRoutesCoexistByMethod() {
        // POST /groups/create is a literal route; GET /groups/create is the group named "create".
        XCTAssertEqual(parameters(router().match(.POST, "/api/v1/groups/create")), [:])
        XCTAssertEqual(parameters(router().match(.GET, "/api/v1/groups/create")), ["jid": "create"])
    }

    func testRouteIndexGivesTheHandlerAndParametersAgain() {
        let r = router()
        guard case .found(_, _, let route) = r.match(.POST, "/api/v1/groups/r9/members") else { return XCTFail() }
        XCTAssertEqual(r.parameters(ofRoute: route, path: "/api/v1/groups/r9/members"), ["jid": "r9"])
        guard case .found(_, _, let info) = r.match(.GET, "/api/v1/server/info") else { return XCTFail() }
        guard case .immediate(let answer) = r.handler(ofRoute: info) else { return XCTFail() }
        let body = EventLoop.queue.sync { LoopActor.assumeIsolated { answer(HTTPRequest(method: .GET, path: "/")).body } }
        XCTAssertEqual(body, Array("info".utf8))
    }

    func testWrongMethodListsTheAllowedOnes() {
        guard case .methodNotAllowed(let allowed) = router().match(.PUT, "/api/v1/groups/r1") else { return XCTFail() }
        XCTAssertEqual(allowed, [.GET, .DELETE])
        guard case .methodNotAllowed(let onlyGet) = router().match(nil, "/api/v1/server/info") else { return XCTFail() }
        XCTAssertEqual(onlyGet, [.GET], "an unknown method is also 405 on a known path")
    }

    func testARestParameterTakesTheRemainingSegments() {
        XCTAssertEqual(parameters(router().match(.GET, "/api/v1/calls/a84b4c76e66710@pc33")), ["call_id": "a84b4c76e66710@pc33"])
        XCTAssertEqual(parameters(router().match(.GET, "/api/v1/calls/abc/def/")), ["call_id": "abc/def/"],
                       "a Call-ID may hold slashes (MHD decodes %2F before routing)")
        XCTAssertNil(parameters(router().match(.GET, "/api/v1/calls/")), "an empty rest does not match")
        XCTAssertNil(parameters(router().match(.GET, "/api/v1/calls")))
        let r = router()
        guard case .found(_, _, let route) = r.match(.GET, "/api/v1/calls/x/y") else { return XCTFail() }
        XCTAssertEqual(r.parameters(ofRoute: route, path: "/api/v1/calls/x/y"), ["call_id": "x/y"])
    }

    func testUnknownPathIsNotFound() {
        guard case .notFound = router().match(.GET, "/nope") else { return XCTFail() }
        guard case .notFound = router().match(.GET, "") else { return XCTFail() }
    }
}
