import Postgres
import HTTPServer
@testable import JSONAPI
import Services
import Foundation
import XCTest

final class APIShapeTests: XCTestCase {
    private func json(_ response: HTTPResponse) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func testErrorShape() throws {
        let response = APIError.invalidRequest("Field 'username' is missing.").response
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.header("content-type"), "application/json")
        let error = try XCTUnwrap(json(response)["error"] as? [String: String])
        XCTAssertEqual(error, ["code": "invalid_request", "message": "Field 'username' is missing."])
    }

    func testStatusesAndHeadersOfTheContract() {
        XCTAssertEqual(APIError.methodNotAllowed(allow: [.GET, .POST]).response.header("Allow"), "GET, POST")
        XCTAssertEqual(APIError.invalidToken(tokenPresent: false).response.header("WWW-Authenticate"), "Bearer")
        XCTAssertEqual(APIError.invalidToken(tokenPresent: true).response.header("WWW-Authenticate"), #"Bearer error="invalid_token""#)
        XCTAssertEqual(APIError.rateLimited(retryAfterSeconds: 7).response.header("Retry-After"), "7")
        XCTAssertEqual(APIError.payloadTooLarge.status, 413)
        XCTAssertEqual(APIError.databaseUnavailable.status, 503)
        XCTAssertEqual(APIError.databaseUnavailable.code, "database_unavailable")
        XCTAssertEqual(APIError.xmppUnavailable.code, "xmpp_unavailable")
        XCTAssertEqual(APIError.notFound.status, 404)
        XCTAssertEqual(APIError.forbidden.status, 403)
    }

    func testDatabaseFailuresMapToTheContract() {
        XCTAssertEqual(APIError(DatabaseError.unavailable("down")), .databaseUnavailable)
        XCTAssertEqual(APIError(DatabaseError.timedOut).status, 503)
        XCTAssertEqual(APIError(DatabaseError.timedOut).response.header("Retry-After"), "1")
        XCTAssertEqual(APIError(DatabaseError.server(sqlState: "42P01", message: "no table")), .internalError)
    }

    struct Register: Decodable { let username: String; let password: String; let tags: [String]? }

    private func decode(_ body: String, contentType: String? = "application/json") -> Result<Register, APIError> {
        JSONBody.decode(Register.self, from: HTTPRequest(method: .POST, path: "/", headers: contentType.map { ["content-type": $0] } ?? [:],
                                                         body: Array(body.utf8)))
    }

    private func message(_ result: Result<Register, APIError>) -> String? {
        if case .failure(let e) = result { XCTAssertEqual(e.code, e.status == 415 ? "unsupported_media_type" : "invalid_request"); return e.message }
        return nil
    }

    func testDecodingNamesTheField() {
        XCTAssertEqual(message(decode(#"{"username":"a"}"#)), "Field 'password' is missing.")
        XCTAssertEqual(message(decode(#"{"username":1,"password":"p"}"#)), "Field 'username' must be a string.")
        XCTAssertEqual(message(decode(#"{"username":null,"password":"p"}"#)), "Field 'username' must be a string.")
        XCTAssertEqual(message(decode(#"{"username":"a","password":"p","tags":[1]}"#)), "Field 'tags[0]' must be a string.")
        XCTAssertEqual(message(decode(#"{"username":"a","#)), "The request body is not valid JSON.")
        XCTAssertEqual(message(decode(#"["a"]"#)), "The request body must be a JSON object.")
        XCTAssertEqual(message(decode("")), "The request body must be a JSON object.")
        XCTAssertEqual(message(decode("{}", contentType: "text/plain")), "Send the body as application/json.")
    }

    func testUnknownFieldsAreIgnored() throws {
        let value = try decode(#"{"username":"a","password":"p","extra":{"x":1}}"#).get()
        XCTAssertEqual(value.username, "a")
        XCTAssertNotNil(try? decode(#"{"username":"a","password":"p"}"#, contentType: "application/json; charset=utf-8").get())
        XCTAssertNotNil(try? decode(#"{"username":"a","password":"p"}"#, contentType: nil).get())
    }
}
