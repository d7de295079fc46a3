import Codecs
import Foundation
import HTTPServer
import JSONAPI
import Logging
import Loop
import XCTest

/// One host cannot hold every connection slot (security review H2): past `connectionsPerAddress`
/// open connections from one address, the next is closed unanswered; one closing frees a slot.
final class ConnectionsPerAddressTests: XCTestCase {
    func testConnectionsPastTheLimitOfOneAddressAreRefused() throws {
        var router = Router()
        router.add(.GET, "/hello", .immediate { _ in .json(.object([("hello", .string("world"))])) })
        var limits = HTTPServer.Limits()
        limits.connectionsPerAddress = 3
        let server = EventLoop.queue.sync {
            LoopActor.assumeIsolated { () -> LoopBound<HTTPServer> in
                let s = HTTPServer(host: "127.0.0.1", port: 0, router: router, limits: limits, logger: Logger(label: "test"))
                try! s.start()
                return LoopBound(s)
            }
        }
        defer { EventLoop.queue.sync { LoopActor.assumeIsolated { server.value.stop() } } }
        let port = EventLoop.queue.sync { LoopActor.assumeIsolated { server.value.port } }

        var held = try (0..<3).map { _ in try TestClient(port: port) }
        for client in held { XCTAssertEqual(try client.request("GET", "/hello").status, 200) }
        let fourth = try TestClient(port: port)
        XCTAssertThrowsError(try fourth.request("GET", "/hello"), "the fourth connection from this address is closed")

        held.removeLast()  // closes one
        var answered: Int?
        for _ in 0..<50 where answered == nil {
            answered = try? TestClient(port: port).request("GET", "/hello").status
            if answered == nil { Thread.sleep(forTimeInterval: 0.02) }
        }
        XCTAssertEqual(answered, 200, "a closed connection frees its slot")
        for client in held { XCTAssertEqual(try client.request("GET", "/hello").status, 200, "the held ones still work") }
    }
}
