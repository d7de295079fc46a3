@testable import HTTP
import Foundation
import Loop
import Services
import XCTest

final class BearerAuthenticatorTests: XCTestCase {
    final class Clock: @unchecked Sendable { var now: Int64 = 1_000_000 }

    private func onLoop<T>(_ body: @LoopActor () -> T) -> T {
        EventLoop.queue.sync { LoopActor.assumeIsolated(body) }
    }

    private static func request(_ authorization: String?) -> HTTPRequest {
        HTTPRequest(method: .GET, path: "/", headers: authorization.map { ["Authorization": $0] } ?? [:])
    }

    func testSchemeParsing() {
        XCTAssertEqual(BearerAuthenticator.bearerToken("Bearer abc"), "abc")
        XCTAssertEqual(BearerAuthenticator.bearerToken("bEaReR   abc"), "abc")
        XCTAssertNil(BearerAuthenticator.bearerToken("Bearer"))
        XCTAssertNil(BearerAuthenticator.bearerToken("Bearer "))
        XCTAssertNil(BearerAuthenticator.bearerToken("Bearerabc"))
        XCTAssertNil(BearerAuthenticator.bearerToken("Basic abc"))
    }

    func testCachedTokensStillExpireAndCanBeForgotten() {
        let clock = Clock()
        let signer = ClientTokenSigner(secret: "cache-test-secret-0123456789abcdef0123")
        let issued = signer.issue(subject: "alice@example.com", now: clock.now)
        let other = signer.issue(subject: "bob@example.com", now: clock.now)
        onLoop {
            let auth = BearerAuthenticator(signer: signer, now: { clock.now })
            for _ in 0..<3 {  // first verified, then from the cache
                XCTAssertEqual(try? auth.authenticate(Self.request("Bearer \(issued.token)")).get(), "alice@example.com")
            }
            XCTAssertEqual(try? auth.authenticate(Self.request("Bearer \(other.token)")).get(), "bob@example.com")
            auth.forget(subject: "alice@example.com")
            XCTAssertEqual(try? auth.authenticate(Self.request("Bearer \(other.token)")).get(), "bob@example.com", "others stay")
            clock.now = issued.expiresAt
            guard case .failure(let error) = auth.authenticate(Self.request("Bearer \(issued.token)")) else { return XCTFail("expired token accepted") }
            XCTAssertEqual(error.status, 401)
            guard case .failure = auth.authenticate(Self.request("Bearer \(other.token)")) else { return XCTFail("expired cached token accepted") }
        }
    }

    func testMissingAndForgedTokens() {
        let signer = ClientTokenSigner(secret: "cache-test-secret-0123456789abcdef0123")
        let forged = ClientTokenSigner(secret: "another-secret-0123456789abcdef0123456").issue(subject: "alice@example.com", now: 1_000_000)
        onLoop {
            let auth = BearerAuthenticator(signer: signer, now: { 1_000_001 })
            guard case .failure(let missing) = auth.authenticate(Self.request(nil)) else { return XCTFail() }
            XCTAssertEqual(missing.response.header("WWW-Authenticate"), "Bearer")
            guard case .failure(let bad) = auth.authenticate(Self.request("Bearer \(forged.token)")) else { return XCTFail() }
            XCTAssertEqual(bad.response.header("WWW-Authenticate"), #"Bearer error="invalid_token""#)
        }
    }
}
