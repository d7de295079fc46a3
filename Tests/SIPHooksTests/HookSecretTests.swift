import JSONAPI
import HTTPServer
import Loop
@testable import SIPHooks
import XCTest

final class HookSecretTests: XCTestCase {
    private static func request(_ value: String?) -> HTTPRequest {
        HTTPRequest(method: .GET, path: "/hooks/sip/ha1", headers: value.map { ["x-hook-secret": $0] } ?? [:])
    }

    func testOnlyTheExactSecretIsAdmitted() {
        let secret = HookSecret("0123456789abcdef0123456789abcdef-hook")
        XCTAssertTrue(secret.admits(Self.request("0123456789abcdef0123456789abcdef-hook")))
        for wrong in [nil, "", "0123456789abcdef0123456789abcdef-hoo", "0123456789abcdef0123456789abcdef-hook ",
                      "0123456789ABCDEF0123456789ABCDEF-HOOK", " 0123456789abcdef0123456789abcdef-hook"] {
            XCTAssertFalse(secret.admits(Self.request(wrong)), wrong ?? "absent")
        }
        XCTAssertEqual(HookSecret.refused.status, 401)
    }

    func testAnEmptyConfiguredSecretStillNeedsTheHeader() {
        let secret = HookSecret("")
        XCTAssertFalse(secret.admits(Self.request(nil)), "a missing header is never a match")
        XCTAssertTrue(secret.admits(Self.request("")))
    }

    /// Every kind of route behind the guard: without the secret the handler never runs.
    func testTheGuardRunsNothingWithoutTheSecret() {
        let secret = HookSecret("0123456789abcdef0123456789abcdef-hook")
        let ran = Counter()
        let done = expectation(description: "checked")
        spawnOnLoop {
            let handlers: [RouteHandler] = [
                .immediate { _ in ran.add(); return HTTPResponse(status: 200) },
                .deferred { _ in ran.add(); return HTTPResponse(status: 200) },
                .adaptive { _ in ran.add(); return .answered(HTTPResponse(status: 200)) },
            ]
            for handler in handlers {
                for (offered, expected) in [(nil, 401), ("wrong", 401), ("0123456789abcdef0123456789abcdef-hook", 200)] as [(String?, Int)] {
                    let status = await Self.status(of: .guarded(by: secret, handler), for: Self.request(offered))
                    XCTAssertEqual(status, expected, "\(handler) with \(offered ?? "no header")")
                }
            }
            XCTAssertEqual(ran.count, 3, "each handler ran once: only with the secret")
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
    }

    @LoopActor
    private static func status(of handler: RouteHandler, for request: HTTPRequest) async -> Int {
        switch handler {
        case .fixed(let prepared): return prepared.response.status
        case .immediate(let answer): return answer(request).status
        case .deferred(let work): return await work(request).status
        case .adaptive(let decide):
            switch decide(request) {
            case .answered(let response): return response.status
            case .running(let work): return await work().status
            }
        }
    }
}

@LoopActor private final class Counter {
    private(set) var count = 0
    func add() { count += 1 }
}
