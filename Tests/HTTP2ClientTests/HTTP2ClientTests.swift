@testable import HTTP2Client
import Foundation
import Loop
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP/2 client against nghttpd (a real HTTP/2 server over TLS) with a self-signed certificate
/// trusted through the client's CA file, as the push providers trust the local fakes.
final class HTTP2ClientTests: XCTestCase {
    nonisolated(unsafe) static var server: Process?
    nonisolated(unsafe) static var port = 0
    nonisolated(unsafe) static var caFile = ""

    override class func setUp() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("h2test-\(getpid())")
        try? FileManager.default.createDirectory(at: dir.appendingPathComponent("htdocs"), withIntermediateDirectories: true)
        try? Data(#"{"ok":true}"#.utf8).write(to: dir.appendingPathComponent("htdocs/push"))
        try? Data(repeating: UInt8(ascii: "x"), count: HTTP2Client.maximumResponseBytes + 1).write(to: dir.appendingPathComponent("htdocs/big"))
        try? Data(repeating: UInt8(ascii: "x"), count: HTTP2Client.maximumResponseBytes).write(to: dir.appendingPathComponent("htdocs/limit"))
        let key = dir.appendingPathComponent("key.pem").path, cert = dir.appendingPathComponent("cert.pem").path
        run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                                 "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert])
        caFile = cert
        port = Int.random(in: 20000...29000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nghttpd")
        process.arguments = ["-a", "127.0.0.1", "-d", dir.appendingPathComponent("htdocs").path, String(port), key, cert]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        server = process
        Thread.sleep(forTimeInterval: 0.3)
    }

    override class func tearDown() { server?.terminate() }

    private static func run(_ path: String, _ arguments: [String]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
    }

    final class Results: @unchecked Sendable {
        let lock = NSLock()
        var statuses: [Int] = []
        var versions: [Int] = []
        var failures: [String] = []
        var connections = 0
        var socketOptions: [Int] = []
        var endedAfterShortTimeout: Int?
    }

    func testKeptHeaderNamesMatchIgnoringASCIICaseOnly() {
        func matches(_ line: String, _ name: String) -> Bool {
            Array(line.utf8).withUnsafeBytes { HTTP2Client.isHeaderName($0[...], name) }
        }
        for line in ["retry-after", "Retry-After", "RETRY-AFTER", "rEtRy-AfTeR"] {
            XCTAssertTrue(matches(line, "retry-after"), line)
        }
        for line in ["retry-afte", "retry-afterx", "retry_after", "Retry-After ", " retry-after", "", "retry\u{2010}after"] {
            XCTAssertFalse(matches(line, "retry-after"), line)
        }
        XCTAssertFalse(matches("[", "{"), "only letters fold")
    }

    func testManyRequestsMultiplexOnOneHTTP2Connection() throws {
        XCTAssertNotNil(Self.server, "nghttpd must be installed (scripts/install-deps)")
        let results = Results()
        let done = expectation(description: "all answered")
        let url = "https://127.0.0.1:\(Self.port)/push"
        let caFile = Self.caFile
        spawnOnLoop {
            let client = HTTP2Client(maximumInFlight: 100, caFile: caFile)
            let group = Tally(expected: 500)
            for i in 0..<500 {
                spawnOnLoop {
                    let request = HTTP2Client.Request(url: url, headers: [("apns-id", "id-\(i)"), ("content-type", "application/json")],
                                                      body: Array(#"{"aps":{}}"#.utf8))
                    switch await client.send(request) {
                    case .success(let response):
                        results.lock.withLock { results.statuses.append(response.status); results.versions.append(response.httpVersion) }
                    case .failure(let failure):
                        results.lock.withLock { results.failures.append("\(failure)") }
                    }
                    if group.finishOne() {
                        results.connections = client.connectionsOpened
                        done.fulfill()
                    }
                }
            }
        }
        wait(for: [done], timeout: 30)
        XCTAssertEqual(results.failures, [])
        XCTAssertEqual(results.statuses, Array(repeating: 200, count: 500))
        XCTAssertEqual(Set(results.versions), [2])
        XCTAssertEqual(results.connections, 1, "one connection, streams multiplexed")
    }

    /// Provider connections idle between pushes: keepalive probes keep NAT mappings and find dead peers.
    func testProviderConnectionsHaveTCPKeepalive() {
        let url = "https://127.0.0.1:\(Self.port)/push", caFile = Self.caFile
        let results = Results()
        let done = expectation(description: "answered")
        spawnOnLoop {
            let client = HTTP2Client(caFile: caFile)
            if case .success(let response) = await client.send(.init(url: url)) { results.statuses.append(response.status) }
            for fd in client.socketOrigins.keys {
                for option in HTTP2Client.keepalive {
                    var value: Int32 = -1, length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, option.level, option.name, &value, &length)
                    results.socketOptions.append(Int(value))
                }
            }
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(results.statuses, [200])
        XCTAssertEqual(results.socketOptions, [1, 60, 10, 3], "SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT of the one connection")
    }

    /// A connection that stops answering (no FIN, no reset: TCP notices nothing) is shut down when a
    /// request on it goes unanswered for ``HTTP2Client/silenceSeconds``, and the next request gets a
    /// new one; curl alone would keep sending every request into the dead connection. A shorter
    /// attempt timing out proves nothing and leaves the connection alone.
    func testAConnectionOnWhichARequestTimedOutIsReplaced() throws {
        let relay = try XCTUnwrap(SilentRelay(target: Self.port))
        let url = "https://127.0.0.1:\(relay.port)/push", caFile = Self.caFile
        let results = Results()
        let done = expectation(description: "four requests")
        spawnOnLoop {
            let client = HTTP2Client(caFile: caFile)
            func record(_ outcome: Result<HTTP2Client.Response, HTTP2Client.Failure>) {
                switch outcome {
                case .success(let response): results.statuses.append(response.status)
                case .failure(let failure): results.failures.append("\(failure)")
                }
            }
            record(await client.send(.init(url: url, timeout: 5)))
            relay.silence()
            record(await client.send(.init(url: url, timeout: 0.5)))
            try? await Task.sleep(for: .milliseconds(300))
            results.endedAfterShortTimeout = relay.connectionsEndedByClient
            record(await client.send(.init(url: url, timeout: HTTP2Client.silenceSeconds)))
            record(await client.send(.init(url: url, timeout: 5)))
            results.connections = client.connectionsOpened
            done.fulfill()
        }
        wait(for: [done], timeout: 30)
        XCTAssertEqual(results.statuses, [200, 200], "the first and the last request")
        XCTAssertEqual(results.failures.count, 2, "\(results.failures)")
        XCTAssertTrue(results.failures.allSatisfy { $0.contains("imeout") }, "\(results.failures)")
        XCTAssertEqual(results.endedAfterShortTimeout, 0, "a 0.5 s attempt timing out leaves the connection open")
        XCTAssertEqual(results.connections, 2, "the silent connection was replaced")
        XCTAssertEqual(relay.connectionsEndedByClient, 1, "the silent connection was shut down, not left open")
    }

    func testABurstToAnUnreachableHostFailsEveryRequestPromptly() {
        let results = Results()
        let done = expectation(description: "all failed")
        let started = Date()
        spawnOnLoop {
            let client = HTTP2Client(maximumInFlight: 50)
            let group = Tally(expected: 200)
            for _ in 0..<200 {
                spawnOnLoop {
                    if case .failure(let failure) = await client.send(.init(url: "https://127.0.0.1:1/push", timeout: 3)) {
                        results.lock.withLock { results.failures.append("\(failure)") }
                    }
                    if group.finishOne() { done.fulfill() }
                }
            }
        }
        wait(for: [done], timeout: 20)
        XCTAssertEqual(results.failures.count, 200)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "refused connections fail at once, none waits for its timeout")
    }

    func testUnreachableAndUntrustedServersFailAsTransportErrors() {
        let done = expectation(description: "failed")
        let results = Results()
        let port = Self.port
        spawnOnLoop {
            let untrusted = HTTP2Client()  // the system bundle does not know the test certificate
            if case .failure(let failure) = await untrusted.send(.init(url: "https://127.0.0.1:\(port)/push")) { results.failures.append("\(failure)") }
            let refused = HTTP2Client()
            if case .failure(let failure) = await refused.send(.init(url: "https://127.0.0.1:1/push", timeout: 2)) { results.failures.append("\(failure)") }
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(results.failures.count, 2, "\(results.failures)")
        XCTAssertTrue(results.failures[0].contains("certificate") || results.failures[0].contains("SSL"), results.failures[0])
    }

    /// A stop closes the client: a request in flight fails at once, the connection is closed (the
    /// peer sees it end), and later requests fail without touching curl.
    func testCloseFailsWhatIsInFlightAndClosesTheConnection() throws {
        let relay = try XCTUnwrap(SilentRelay(target: Self.port))
        let url = "https://127.0.0.1:\(relay.port)/push", caFile = Self.caFile
        let results = Results()
        let done = expectation(description: "closed")
        spawnOnLoop {
            let client = HTTP2Client(caFile: caFile)
            if case .success(let response) = await client.send(.init(url: url, timeout: 5)) { results.statuses.append(response.status) }
            relay.silence()
            let inFlight = spawnOnLoop { await client.send(.init(url: url, timeout: 20)) }
            try? await Task.sleep(for: .milliseconds(200))
            let started = ContinuousClock.now
            client.close()
            if case .failure(let failure) = await inFlight.value { results.failures.append("\(failure)") }
            results.endedAfterShortTimeout = (ContinuousClock.now - started) < .seconds(1) ? 1 : 0
            if case .failure(let failure) = await client.send(.init(url: url, timeout: 5)) { results.failures.append("\(failure)") }
            client.close()  // a second close does nothing
            results.connections = client.connectionsOpened
            done.fulfill()
        }
        wait(for: [done], timeout: 15)
        XCTAssertEqual(results.statuses, [200])
        XCTAssertEqual(results.failures, [#"transport("the HTTP/2 client was closed")"#, #"transport("the HTTP/2 client was closed")"#])
        XCTAssertEqual(results.endedAfterShortTimeout, 1, "the request in flight failed at once, not at its timeout")
        XCTAssertEqual(results.connections, 1, "nothing opened after the close")
        let deadline = Date().addingTimeInterval(3)
        while relay.connectionsEndedByClient == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertEqual(relay.connectionsEndedByClient, 1, "the connection was closed")
    }

    /// A body past 64 KiB fails its request (a provider answers a few hundred bytes); one at the
    /// limit is read whole.
    func testResponseBodiesAreCapped() {
        let results = Results()
        let done = expectation(description: "answered")
        let base = "https://127.0.0.1:\(Self.port)", caFile = Self.caFile
        spawnOnLoop {
            let client = HTTP2Client(caFile: caFile)
            switch await client.send(.init(url: "\(base)/big", timeout: 5)) {
            case .success(let response): results.statuses.append(response.status)
            case .failure(let failure): results.failures.append("\(failure)")
            }
            if case .success(let response) = await client.send(.init(url: "\(base)/limit", timeout: 5)) {
                results.versions.append(response.body.count)
            }
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(results.failures, [#"transport("response body over 65536 bytes")"#])
        XCTAssertEqual(results.versions, [HTTP2Client.maximumResponseBytes])
    }

    /// curl reads a timeout of 0 as none: a request with no time left fails at once, unsent.
    func testARequestWithNoTimeLeftFailsAtOnce() {
        let results = Results()
        let done = expectation(description: "failed")
        let url = "https://127.0.0.1:\(Self.port)/push", caFile = Self.caFile
        spawnOnLoop {
            let client = HTTP2Client(caFile: caFile)
            for timeout in [0, -1, 0.0004] {
                if case .failure(let failure) = await client.send(.init(url: url, timeout: timeout)) { results.failures.append("\(failure)") }
            }
            results.connections = client.connectionsOpened
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
        XCTAssertEqual(results.failures.count, 3)
        XCTAssertTrue(results.failures.allSatisfy { $0.contains("no time left") }, "\(results.failures)")
        XCTAssertEqual(results.connections, 0, "nothing was sent")
    }

    /// With every place in flight taken, urgent requests (call pushes) start before the others,
    /// whatever their order of arrival.
    func testUrgentRequestsStartFirstWhenTheClientIsFull() throws {
        let relay = try XCTUnwrap(SilentRelay(target: Self.port))
        let silent = "https://127.0.0.1:\(relay.port)/push", direct = "https://127.0.0.1:\(Self.port)/push", caFile = Self.caFile
        let order = LockedOrder()
        let done = expectation(description: "all answered")
        spawnOnLoop {
            let client = HTTP2Client(maximumInFlight: 1, caFile: caFile)
            _ = await client.send(.init(url: silent, timeout: 5))  // the relay's connection is up
            relay.silence()
            let tally = Tally(expected: 3)
            // The one place in flight is taken by a request that will time out in 0.5 s.
            spawnOnLoop { _ = await client.send(.init(url: silent, timeout: 0.5)) }
            for (name, urgent) in [("message 1", false), ("message 2", false), ("call", true)] {
                spawnOnLoop {
                    _ = await client.send(.init(url: direct, timeout: 5, urgent: urgent))
                    order.append(name)
                    if tally.finishOne() { done.fulfill() }
                }
            }
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(order.names, ["call", "message 1", "message 2"])
    }
}

@LoopActor final class Tally {
    let expected: Int
    var finished = 0
    init(expected: Int) { self.expected = expected }
    func finishOne() -> Bool { finished += 1; return finished == expected }
}

final class LockedOrder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ name: String) { lock.withLock { stored.append(name) } }
    var names: [String] { lock.withLock { stored } }
}
