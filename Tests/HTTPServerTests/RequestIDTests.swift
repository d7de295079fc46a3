import Foundation
@testable import HTTPServer
import JSONAPI
import Logging
import Loop
import SwitchboardTesting
import XCTest

/// `X-Request-ID` (docs/operations.md): taken from the client when safe, else made; returned in every
/// answer; on the access line and on every line the request's handler writes, in tasks it starts too.
final class RequestIDTests: XCTestCase {
    nonisolated(unsafe) private static var server: HTTPServer?
    nonisolated(unsafe) private static var port: UInt16 = 0
    private static let lines = CapturedLines()
    /// What the server's answer observer heard: "METHOD pattern status".
    private static let observed = CapturedLines()

    override class func setUp() {
        let handlerLogger = Logger(label: "handler") { _ in lines.handler(metadataProvider: RequestID.metadataProvider) }
        var router = Router()
        router.add(.GET, "/now", .immediate { _ in
            handlerLogger.info("immediate work")
            return .noContent()
        })
        router.add(.GET, "/later/{n}", .deferred { _ in
            handlerLogger.info("deferred work")
            // A task the handler starts inherits the id.
            await spawnOnLoop { handlerLogger.info("nested work") }.value
            return .noContent()
        })
        router.add(.GET, "/fixed", .fixed(PreparedResponse(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array("ok".utf8)))))
        let accessLogger = Logger(label: "access") { _ in lines.handler(metadataProvider: RequestID.metadataProvider) }
        (server, port) = EventLoop.queue.sync {
            LoopActor.assumeIsolated {
                let server = HTTPServer(host: "127.0.0.1", port: 0, router: router, refusals: APIError.refusals, observe: { pattern, method, status, seconds in
                    observed.append(.init(level: .info, message: "\(method) \(pattern) \(status)", metadata: ["seconds": "\(seconds)"]))
                }, logger: accessLogger)
                try! server.start()
                return (server, server.port)
            }
        }
    }

    override class func tearDown() { stopTestServer(server) }

    override func setUp() {
        Self.lines.clear()
        Self.observed.clear()
    }

    func testAClientsIDIsReturnedAndOnEveryLineTheRequestCauses() throws {
        let answer = try TestClient(port: Self.port).request("GET", "/later/7", headers: ["X-Request-ID": "trace-4bf92f3577b34da6"])
        XCTAssertEqual(answer.status, 204)
        XCTAssertEqual(answer.headers["x-request-id"], "trace-4bf92f3577b34da6")
        let mine = Self.lines.all.filter { $0.metadata["request_id"] == "trace-4bf92f3577b34da6" }.map(\.message)
        XCTAssertEqual(Set(mine), ["deferred work", "nested work", "request"])
        let access = try XCTUnwrap(Self.lines.all.first { $0.message == "request" })
        XCTAssertEqual(access.level, .info)
        XCTAssertEqual(access.metadata["method"], "GET")
        XCTAssertEqual(access.metadata["route"], "/later/{n}", "the pattern, never the path")
        XCTAssertEqual(access.metadata["status"], "204")
        XCTAssertEqual(access.metadata["client"], "127.0.0.1")
        XCTAssertNotNil(access.metadata["duration_ms"].flatMap(Double.init))
    }

    func testARequestWithoutAnIDGetsANewOneEachTime() throws {
        let client = try TestClient(port: Self.port)
        let ids = try (0..<3).map { _ in try XCTUnwrap(client.request("GET", "/now").headers["x-request-id"]) }
        XCTAssertEqual(Set(ids).count, 3)
        for id in ids { XCTAssertTrue(id.utf8.count == 16 && id.allSatisfy(\.isHexDigit), id) }
        XCTAssertEqual(Self.lines.all.filter { $0.message == "immediate work" }.compactMap { $0.metadata["request_id"] }, ids)
    }

    func testAnIDThatCouldForgeLogLinesIsReplaced() throws {
        let client = try TestClient(port: Self.port)
        for hostile in ["a b", "x\"y", String(repeating: "a", count: 129), "id\u{7F}", "é"] {
            let id = try XCTUnwrap(client.request("GET", "/now", headers: ["X-Request-ID": hostile]).headers["x-request-id"])
            XCTAssertNotEqual(id, hostile)
            XCTAssertEqual(id.utf8.count, 16)
        }
        XCTAssertEqual(RequestID.accept(String(repeating: "a", count: 128)), String(repeating: "a", count: 128))
        XCTAssertEqual(RequestID.accept("Root=1-5759e988-bd862e3fe1be46a994272793"), "Root=1-5759e988-bd862e3fe1be46a994272793")
    }

    func testFixedRoutesAndRefusalsCarryAnIDAndAnAccessLineToo() throws {
        let client = try TestClient(port: Self.port)
        let fixed = try client.request("GET", "/fixed", headers: ["X-Request-ID": "f1"])
        XCTAssertEqual(fixed.text, "ok")
        XCTAssertEqual(fixed.headers["x-request-id"], "f1")
        XCTAssertEqual(try client.request("GET", "/fixed", headers: ["X-Request-ID": "f2"]).headers["x-request-id"], "f2",
                       "the prepared body is shared, the header is not")
        let missing = try client.request("GET", "/nowhere", headers: ["X-Request-ID": "n1"])
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.headers["x-request-id"], "n1")
        let wrongMethod = try client.request("DELETE", "/now", headers: ["X-Request-ID": "m1"])
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.headers["x-request-id"], "m1")
        let access = Self.lines.all.filter { $0.message == "request" }
        XCTAssertEqual(access.map { $0.metadata["request_id"] }, ["f1", "f2", "n1", "m1"])
        XCTAssertEqual(access.map { $0.metadata["route"] }, ["/fixed", "/fixed", "unmatched", "unmatched"])
        XCTAssertEqual(access.map { $0.metadata["status"] }, ["200", "200", "404", "405"])
    }

    /// The observer (metrics) hears of every answer as the access line does: prepared routes,
    /// deferred ones and refusals, by pattern; a method outside the known ones is `OTHER`.
    func testEveryAnswerReachesTheObserverByPattern() throws {
        let client = try TestClient(port: Self.port)
        for (method, path) in [("GET", "/now"), ("GET", "/later/42"), ("GET", "/fixed"), ("GET", "/nowhere"), ("DELETE", "/now"), ("BREW", "/now")] {
            _ = try client.request(method, path)
        }
        XCTAssertEqual(Self.observed.all.map(\.message), ["GET /now 204", "GET /later/{n} 204", "GET /fixed 200", "GET unmatched 404",
                                                          "DELETE unmatched 405", "OTHER unmatched 405"])
        XCTAssertTrue(Self.observed.all.allSatisfy { (Double($0.metadata["seconds"] ?? "") ?? -1) >= 0 })
    }
}
