import Codecs
import Foundation
import HTTPServer
import JSONAPI
import Logging
import Loop
import XCTest

/// A route that never answers does not hold its connection forever (issue 12, item 2): the server
/// answers 503 `timed_out` for it at the deadline, keeps the connection, and drops the late answer.
final class RequestDeadlineTests: XCTestCase {
    nonisolated(unsafe) private static var server: HTTPServer?
    nonisolated(unsafe) private static var port: UInt16 = 0

    override class func setUp() {
        var router = Router()
        router.add(.GET, "/sleep/{ms}", .deferred { request in
            let ms = Int(request.pathParameters["ms"] ?? "0") ?? 0
            try? await Task.sleep(for: .milliseconds(ms))
            return .json(.object([("slept", .int(ms))]))
        })
        var limits = HTTPServer.Limits()
        limits.requestDeadlineSeconds = 0.3
        (server, port) = startTestServer(router, limits: limits)
    }

    override class func tearDown() {
        stopTestServer(server)
    }

    func testARouteOverTheDeadlineIsAnswered503AndTheConnectionKeepsServing() throws {
        let c = try TestClient(port: Self.port)
        let late = try c.request("GET", "/sleep/800")
        XCTAssertEqual(late.status, 503)
        XCTAssertEqual(late.errorCode, "timed_out")
        XCTAssertEqual(late.headers["retry-after"], "1")
        // Let the route's own answer arrive (and be dropped) before the next request on this connection.
        Thread.sleep(forTimeInterval: 0.8)
        let next = try c.request("GET", "/sleep/10")
        XCTAssertEqual(next.status, 200)
        XCTAssertEqual(next.json?["slept"] as? Int, 10, "the next request gets its own answer, not the dropped one")
    }

    func testRoutesWithinTheDeadlineAreUntouched() throws {
        let c = try TestClient(port: Self.port)
        for _ in 0..<20 {
            XCTAssertEqual(try c.request("GET", "/sleep/5").status, 200)
        }
    }

    func testManyOverdueRequestsAreAllAnswered() throws {
        let group = DispatchGroup()
        let statuses = LockedArray()
        for _ in 0..<30 {
            group.enter()
            Thread.detachNewThread {
                statuses.append((try? TestClient(port: Self.port).request("GET", "/sleep/2000").status) ?? -1)
                group.leave()
            }
        }
        group.wait()
        XCTAssertEqual(statuses.values, Array(repeating: 503, count: 30))
    }
}

/// A request must arrive whole within `requestReadSeconds` (security review H2, slowloris): MHD's
/// own timeout counts only idle time, so a client trickling bytes would hold its connection forever.
final class RequestReadDeadlineTests: XCTestCase {
    nonisolated(unsafe) private static var server: HTTPServer?
    nonisolated(unsafe) private static var port: UInt16 = 0

    override class func setUp() {
        var router = Router()
        router.add(.GET, "/hello", .immediate { _ in .json(.object([("hello", .string("world"))])) })
        router.add(.POST, "/echo", .deferred { request in .json(.object([("body", .int(request.body.count))])) })
        var limits = HTTPServer.Limits()
        limits.requestReadSeconds = 0.5
        (server, port) = startTestServer(router, limits: limits)
    }

    override class func tearDown() {
        stopTestServer(server)
    }

    /// Sends `text` a byte every 50 ms (never idle long enough for MHD's own timeout); whether the
    /// server shut the connection before all of it went out.
    private func trickle(_ text: String, on client: TestClient) -> Bool {
        for byte in text.utf8 {
            client.send(Data([byte]))
            Thread.sleep(forTimeInterval: 0.05)
            if client.isClosedByServerNow() { return true }
        }
        return false
    }

    func testTrickledHeadersAreCutOff() throws {
        let c = try TestClient(port: Self.port)
        XCTAssertTrue(trickle("GET /hello HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-Pad: y\r\n", count: 10), on: c),
                      "headers trickled for over a second are cut off")
    }

    func testATrickledBodyIsCutOff() throws {
        let c = try TestClient(port: Self.port)
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        XCTAssertTrue(trickle(String(repeating: "a", count: 100), on: c), "a body trickled for over a second is cut off")
    }

    func testAKeptConnectionIdleBetweenRequestsIsServedWithinTheDeadline() throws {
        let c = try TestClient(port: Self.port)
        for _ in 0..<3 {
            XCTAssertEqual(try c.request("GET", "/hello").status, 200)
            XCTAssertEqual(try c.request("POST", "/echo", body: Data("abc".utf8)).text, #"{"body":3}"#)
            Thread.sleep(forTimeInterval: 0.3)  // idle, but each request arrives whole at once
        }
    }
}
