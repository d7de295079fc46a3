import Codecs
import HTTPServer
import Foundation
@testable import JSONAPI
import Logging
import Loop
import XCTest

/// The real server (libmicrohttpd on the loop) on a real socket, with a router of test routes.
final class HTTPServerTests: XCTestCase {
    struct Echo: Decodable { let name: String; let count: Int }

    nonisolated(unsafe) private static var server: HTTPServer?
    nonisolated(unsafe) private static var port: UInt16 = 0

    override class func setUp() {
        var router = Router()
        router.add(.GET, "/hello", .immediate { _ in .json(.object([("hello", .string("world"))])) })
        router.add(.POST, "/echo", .immediate { request in
            switch JSONBody.decode(Echo.self, from: request) {
            case .success(let echo): return .json(.object([("count", .int(echo.count)), ("name", .string(echo.name))]))
            case .failure(let error): return error.response
            }
        })
        router.add(.GET, "/slow/{ms}", .deferred { request in
            let ms = Int(request.pathParameters["ms"] ?? "0") ?? 0
            try? await Task.sleep(for: .milliseconds(ms))
            return .json(.object([("slept", .int(ms))]))
        })
        let adaptive = RouteHandler.adaptive { request in
            let mode = request.pathParameters["mode"] ?? ""
            if mode == "now" { return .answered(.json(.object([("mode", .string("now"))]))) }
            return .running {
                try? await Task.sleep(for: .milliseconds(5))
                return .json(.object([("mode", .string(mode)), ("body", .int(request.body.count))]))
            }
        }
        router.add(.GET, "/adaptive/{mode}", adaptive)
        router.add(.POST, "/adaptive/{mode}", adaptive)
        router.add(.GET, "/query", .immediate { request in
            .json(.object(["a", "b", "c"].compactMap { name in request.query(name).map { (name, .string($0)) } }))
        })
        router.add(.POST, "/headers", .deferred { request in
            .json(.object([("agent", request.header("user-agent").map(JSONValue.string) ?? .null), ("body", .int(request.body.count))]))
        })
        var limits = HTTPServer.Limits()
        limits.idleTimeoutSeconds = 2
        (server, port) = startTestServer(router, limits: limits)
    }

    override class func tearDown() {
        stopTestServer(server)
    }

    private func client() throws -> TestClient { try TestClient(port: Self.port) }

    func testImmediateAndDeferredRoutes() throws {
        let c = try client()
        let hello = try c.request("GET", "/hello")
        XCTAssertEqual(hello.status, 200)
        XCTAssertEqual(hello.text, #"{"hello":"world"}"#)
        let slow = try c.request("GET", "/slow/20")
        XCTAssertEqual(slow.status, 200)
        XCTAssertEqual(slow.json?["slept"] as? Int, 20)
        XCTAssertEqual(try c.request("GET", "/query?a=1&b=x%20y").json as? [String: String], ["a": "1", "b": "x y"])
        let headers = try c.request("POST", "/headers", headers: ["USER-AGENT": "probe/1"], body: Data("xyz".utf8))
        XCTAssertEqual(headers.text, #"{"agent":"probe/1","body":3}"#, "headers are readable, case-insensitively, in deferred handlers")
    }

    func testAdaptiveRoutesAnswerNowOrLaterOnOneConnection() throws {
        let c = try client()
        for _ in 0..<50 {
            XCTAssertEqual(try c.request("GET", "/adaptive/now").text, #"{"mode":"now"}"#)
            XCTAssertEqual(try c.request("GET", "/adaptive/later").text, #"{"mode":"later","body":0}"#)
            XCTAssertEqual(try c.request("POST", "/adaptive/later", body: Data("abc".utf8)).text, #"{"mode":"later","body":3}"#)
        }
    }

    func testAnEncodedNULNeitherEndsThePathNorAnArgument() throws {
        let c = try client()
        XCTAssertEqual(try c.request("GET", "/hello%00/x").status, 404, "not /hello")
        XCTAssertEqual(try c.request("GET", "/hello%00").status, 404, "not /hello")
        XCTAssertEqual(try c.request("GET", "/slow/5%00").json?["slept"] as? Int, 0, "the parameter is \"5%00\", not 5")
        XCTAssertEqual(try c.request("GET", "/query?a=x%00y&b=%41%2f%e2%82%ac").json as? [String: String], ["a": "x%00y", "b": "A/€"])
    }

    func testUnknownPathAndWrongMethod() throws {
        let c = try client()
        let missing = try c.request("GET", "/nope")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.errorCode, "not_found")
        let wrong = try client().request("DELETE", "/echo")
        XCTAssertEqual(wrong.status, 405)
        XCTAssertEqual(wrong.headers["allow"], "POST")
        XCTAssertEqual(wrong.errorCode, "method_not_allowed")
    }

    func testOneMegabyteBodyIsRefusedWith413() throws {
        let c = try client()
        let response = try c.request("POST", "/echo", headers: ["Content-Type": "application/json"],
                                     body: Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.errorCode, "payload_too_large")
        // The server still serves everyone else.
        XCTAssertEqual(try client().request("GET", "/hello").status, 200)
    }

    func testChunkedBodyOverTheLimitIsRefused() throws {
        let c = try client()
        var request = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        let chunk = String(repeating: "b", count: 16 * 1024)
        for _ in 0..<5 { request += String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n" }
        request += "0\r\n\r\n"
        c.send(request)
        XCTAssertEqual(try c.readResponse().status, 413)
    }

    func testBodyAtTheLimitIsAccepted() throws {
        let padding = String(repeating: " ", count: 64 * 1024 - 24)
        let body = Data((#"{"name":"n","count":1}"# + padding).utf8)
        XCTAssertEqual(body.count, 64 * 1024 - 2)
        let response = try client().request("POST", "/echo", headers: ["Content-Type": "application/json"], body: body)
        XCTAssertEqual(response.status, 200)
    }

    func testMalformedJSONIs400NamingTheProblem() throws {
        let c = try client()
        let broken = try c.request("POST", "/echo", headers: ["Content-Type": "application/json"], body: Data(#"{"name": "#.utf8))
        XCTAssertEqual(broken.status, 400)
        XCTAssertEqual(broken.errorCode, "invalid_request")
        let wrongType = try c.request("POST", "/echo", headers: ["Content-Type": "application/json"], body: Data(#"{"name":"n","count":"1"}"#.utf8))
        XCTAssertEqual(wrongType.status, 400)
        XCTAssertEqual((wrongType.json?["error"] as? [String: String])?["message"], "Field 'count' must be a number.")
        let ok = try c.request("POST", "/echo", headers: ["Content-Type": "application/json"], body: Data(#"{"name":"n","count":2,"x":1}"#.utf8))
        XCTAssertEqual(ok.status, 200, "the connection survives a 400")
        XCTAssertEqual(ok.text, #"{"count":2,"name":"n"}"#)
    }

    func testTenThousandRequestsOverOneKeepAliveConnection() throws {
        let c = try client()
        for i in 0..<10_000 {
            let response = try c.request("GET", "/hello")
            if response.status != 200 { return XCTFail("request \(i) got \(response.status)") }
        }
        XCTAssertEqual(try c.request("GET", "/slow/0").status, 200, "still the same connection")
    }

    func testAStalledHalfRequestDoesNotBlockOthers() throws {
        let stalled = try client()
        stalled.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na")
        let other = try client()
        for _ in 0..<100 { XCTAssertEqual(try other.request("GET", "/hello").status, 200) }
        let slow = try client()
        XCTAssertEqual(try slow.request("GET", "/slow/10").status, 200)
        // The stalled connection is closed after the idle timeout (2 s in this test).
        let started = Date()
        XCTAssertTrue(stalled.isClosedByServer())
        XCTAssertLessThan(Date().timeIntervalSince(started), 4.5)
    }

    /// libmicrohttpd 0.9.75 answers 400 (and closes) when garbage still splits into a request line of
    /// three parts; a line without spaces (a TLS ClientHello, NUL bytes) it closes without an answer.
    func testGarbageBytesGet400OrAreCutOff() throws {
        let answered400: [[UInt8]] = [Array("\u{1}\u{2}\u{3} x y\r\n\r\n".utf8), Array("hello world this is not http\r\n\r\n".utf8),
                                      Array("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n".utf8), Array("GET /hello\r\n\r\n".utf8)]
        for garbage in answered400 {
            let c = try client()
            c.send(Data(garbage))
            XCTAssertEqual(try c.readResponse().status, 400, String(decoding: garbage, as: UTF8.self))
            XCTAssertTrue(c.isClosedByServer())
        }
        let tlsHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03, 0x0D, 0x0A, 0x0D, 0x0A]
        for garbage in [tlsHello, [0, 0, 0, 0, 0x0D, 0x0A, 0x0D, 0x0A]] {
            let c = try client()
            c.send(Data(garbage))
            XCTAssertTrue(c.isClosedByServer())
        }
        XCTAssertEqual(try client().request("GET", "/hello").status, 200, "the server is unharmed")
    }

    func testAnEndlessChunkedBodyIsCutOff() throws {
        let c = try client()
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = String(repeating: "c", count: 64 * 1024)
        for _ in 0..<40 { c.send(String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n") }
        XCTAssertTrue(c.isClosedByServer())
    }

    func testDeferredRoutesRunConcurrently() throws {
        // 20 clients each wait 200 ms on the server: together well under 20 × 200 ms.
        let started = Date()
        let group = DispatchGroup()
        let statuses = LockedArray()
        for _ in 0..<20 {
            group.enter()
            Thread.detachNewThread {
                let status = (try? TestClient(port: Self.port).request("GET", "/slow/200").status) ?? -1
                statuses.append(status)
                group.leave()
            }
        }
        group.wait()
        XCTAssertEqual(statuses.values, Array(repeating: 200, count: 20))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.0)
    }
}

final class LockedArray: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int] = []
    func append(_ v: Int) { lock.lock(); storage.append(v); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return storage }
}

extension HTTPServerTests {
    /// The 16 KiB connection pool bounds the header block: about 12 KiB fits, more gets MHD's 431.
    func testHeaderSizeLimit() throws {
        let fits = try client().request("GET", "/hello", headers: ["X-Big": String(repeating: "a", count: 10_000)])
        XCTAssertEqual(fits.status, 200)
        let c = try client()
        let tooBig = try c.request("GET", "/hello", headers: ["X-Big": String(repeating: "a", count: 20_000)])
        XCTAssertEqual(tooBig.status, 431)
        XCTAssertTrue(c.isClosedByServer())
    }
}
