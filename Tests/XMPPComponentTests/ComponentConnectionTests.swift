import XMPP
import Foundation
import Logging
import Loop
@testable import XMPPComponent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// ComponentConnection against a scripted XEP-0114 server on loopback (the real ejabberd runs in the
/// integration tests): handshake, IQ timeout, reconnect after the server drops the connection.
final class ComponentConnectionTests: XCTestCase {
    /// Accepts connections, performs the server side of the handshake, then reads and stays silent.
    final class SilentServer: @unchecked Sendable {
        let listener: Int32
        let port: UInt16
        private let lock = NSLock()
        private var clients: [Int32] = []
        private(set) var accepted = 0
        private(set) var received = ""

        init(secret: String) {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.listener = listener
            var one: Int32 = 1
            setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            listen(listener, 8)
            var bound = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
            port = UInt16(bigEndian: bound.sin_port)
            Thread.detachNewThread { [self] in
                while true {
                    let client = accept(listener, nil, nil)
                    guard client >= 0 else { return }
                    lock.lock(); clients.append(client); accepted += 1; lock.unlock()
                    Thread.detachNewThread { self.serve(client, secret: secret) }
                }
            }
        }

        private func serve(_ client: Int32, secret: String) {
            var buffer = [UInt8](repeating: 0, count: 4096)
            var text = ""
            func readUntil(_ marker: String) -> Bool {
                while !text.contains(marker) {
                    let n = recv(client, &buffer, buffer.count, 0)
                    if n <= 0 { return false }
                    text += String(decoding: buffer[0..<n], as: UTF8.self)
                }
                return true
            }
            guard readUntil(">") else { return }
            send("<?xml version='1.0'?><stream:stream id='s1' xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept'>", to: client)
            guard readUntil("</handshake>") else { return }
            let expected = XEP0114.handshake(streamID: "s1", secret: secret)
            send(text.contains(expected) ? "<handshake/>" : "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>", to: client)
            while true {
                let n = recv(client, &buffer, buffer.count, 0)
                if n <= 0 { return }
                lock.lock(); received += String(decoding: buffer[0..<n], as: UTF8.self); lock.unlock()
            }
        }

        /// Sends `text` to every connected client.
        func sendToClients(_ text: String) {
            lock.lock(); let current = clients; lock.unlock()
            for client in current { send(text, to: client) }
        }

        func send(_ text: String, to client: Int32) {
            _ = text.withCString { Glibc.send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        }

        /// Drops every client connection, as a crashed server would.
        func dropClients() {
            lock.lock(); defer { lock.unlock() }
            for client in clients { shutdown(client, Int32(SHUT_RDWR)); close(client) }
            clients = []
        }

        var acceptedCount: Int { lock.lock(); defer { lock.unlock() }; return accepted }
        var receivedText: String { lock.lock(); defer { lock.unlock() }; return received }
    }

    private static let identity = XEP0030.Identity(category: "component", type: "generic", name: "t")

    private static func settings(port: UInt16, secret: String) -> ComponentConnection.Settings {
        var s = ComponentConnection.Settings(host: "127.0.0.1", port: port, domain: "gateway.example.com", secret: secret,
                                             serverDomain: "example.com")
        s.requestTimeout = 0.3
        s.pingInterval = 3600
        return s
    }

    private func waitUntil(_ what: String, timeout: Double = 5, _ condition: @escaping @Sendable @LoopActor () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if EventLoop.queue.sync(execute: { LoopActor.assumeIsolated(condition) }) { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTFail("timed out waiting until \(what)")
    }

    func testRequestTimesOutAndTheConnectionRecoversAfterADrop() {
        let server = SilentServer(secret: "right")
        let connection = EventLoop.queue.sync {
            LoopActor.assumeIsolated { ComponentConnection(settings: Self.settings(port: server.port, secret: "right"), identity: Self.identity, logger: Logger(label: "t")) }
        }
        let box = UnsafeTransfer(connection)
        EventLoop.queue.sync { LoopActor.assumeIsolated { box.value.start() } }
        waitUntil("ready") { box.value.isReady }

        let outcome = LockedResult()
        let started = Date()
        spawnOnLoop {
            do {
                _ = try await box.value.request(XEP0199.ping(id: "", from: "gateway.example.com", to: "example.com"))
                outcome.set("answered")
            } catch {
                outcome.set("\(error)")
            }
        }
        while outcome.value == nil, Date().timeIntervalSince(started) < 5 { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(outcome.value, "timedOut")
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "the timeout is the request timeout, not longer")
        XCTAssertTrue(server.receivedText.contains("<ping xmlns='urn:xmpp:ping'/>"))

        let dropped = Date()
        server.dropClients()
        // The first retry is immediate, so "not ready" may last only milliseconds: watch the server.
        while server.acceptedCount < 2, Date().timeIntervalSince(dropped) < 5 { Thread.sleep(forTimeInterval: 0.005) }
        XCTAssertEqual(server.acceptedCount, 2, "reconnected")
        XCTAssertLessThan(Date().timeIntervalSince(dropped), 0.5, "the first retry is at once")
        waitUntil("ready again") { box.value.isReady }
        EventLoop.queue.sync { LoopActor.assumeIsolated { box.value.stop() } }
    }

    func testOnlyTheJIDAskedCanAnswerARequest() {
        let server = SilentServer(secret: "right")
        var settings = Self.settings(port: server.port, secret: "right")
        settings.requestTimeout = 5
        let box = UnsafeTransfer(EventLoop.queue.sync {
            LoopActor.assumeIsolated { ComponentConnection(settings: settings, identity: Self.identity, logger: Logger(label: "t")) }
        })
        EventLoop.queue.sync { LoopActor.assumeIsolated { box.value.start() } }
        waitUntil("ready") { box.value.isReady }
        let answeredBy = LockedResult()
        spawnOnLoop {
            let answer = try? await box.value.request(XEP0199.ping(id: "", from: "gateway.example.com", to: "example.com"))
            answeredBy.set(answer?[attribute: "from"] ?? "nothing")
        }
        let deadline = Date().addingTimeInterval(5)
        var id: Substring?
        while id == nil, Date() < deadline {
            id = server.receivedText.split(separator: "id='").dropFirst().first?.prefix { $0 != "'" }
            Thread.sleep(forTimeInterval: 0.01)
        }
        guard let id else { return XCTFail("the ping never reached the server") }
        server.sendToClients("<iq type='result' id='\(id)' from='mallory@example.com/x' to='gateway.example.com'/>")
        server.sendToClients("<iq type='error' id='\(id)' to='gateway.example.com'/>")
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertNil(answeredBy.value, "answers from another JID, or from none, are ignored")
        server.sendToClients("<iq type='result' id='\(id)' from='example.com' to='gateway.example.com'/>")
        while answeredBy.value == nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(answeredBy.value, "example.com")
        EventLoop.queue.sync { LoopActor.assumeIsolated { box.value.stop() } }
    }

    func testWrongSecretIsRetriedWithoutEverBecomingReady() {
        let server = SilentServer(secret: "right")
        let box = UnsafeTransfer(EventLoop.queue.sync {
            LoopActor.assumeIsolated { ComponentConnection(settings: Self.settings(port: server.port, secret: "wrong"), identity: Self.identity, logger: Logger(label: "t")) }
        })
        EventLoop.queue.sync { LoopActor.assumeIsolated { box.value.start() } }
        let deadline = Date().addingTimeInterval(1.5)
        while Date() < deadline {
            XCTAssertFalse(EventLoop.queue.sync { LoopActor.assumeIsolated { box.value.isReady } })
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertGreaterThanOrEqual(server.acceptedCount, 3, "it keeps trying, backing off")
        EventLoop.queue.sync { LoopActor.assumeIsolated { box.value.stop() } }
    }
}

final class LockedResult: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func set(_ v: String) { lock.lock(); stored = v; lock.unlock() }
    var value: String? { lock.lock(); defer { lock.unlock() }; return stored }
}
