import Postgres
import HTTPServer
import JSONAPI
@testable import PhoneAPI
import Foundation
import Logging
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

    /// The JID when accepted at once, "check" when the version needs the database, else the status.
    @LoopActor
    private static func outcome(_ auth: BearerAuthenticator, _ header: String?) -> String {
        switch auth.authenticate(request(header)) {
        case .accepted(let jid): return jid
        case .needsVersionCheck: return "check"
        case .rejected(let error): return "\(error.status)"
        }
    }

    @LoopActor
    private static func versions(_ clock: Clock) -> CredentialVersions {
        let nowhere = DatabasePool(conninfo: "postgresql://nobody@127.0.0.1:1/none", logger: Logger(label: "t"))
        return CredentialVersions(database: nowhere, now: { Double(clock.now) })
    }

    func testTokensNeedTheirAccountsCurrentVersion() {
        let clock = Clock()
        let signer = ClientTokenSigner(secret: "cache-test-secret-0123456789abcdef0123")
        let alice = signer.issue(subject: "alice@example.com", version: 2, now: clock.now)
        let oldAlice = signer.issue(subject: "alice@example.com", version: 1, now: clock.now)
        let bob = signer.issue(subject: "bob@example.com", version: 1, now: clock.now)
        onLoop {
            let versions = Self.versions(clock)
            let auth = BearerAuthenticator(signer: signer, versions: versions, now: { clock.now })
            XCTAssertEqual(Self.outcome(auth, "Bearer \(alice.token)"), "check", "version unknown: ask the database")
            versions.remember("alice@example.com", 2)
            versions.remember("bob@example.com", nil)
            for _ in 0..<3 { XCTAssertEqual(Self.outcome(auth, "Bearer \(alice.token)"), "alice@example.com") }
            XCTAssertEqual(Self.outcome(auth, "Bearer \(oldAlice.token)"), "401", "revoked by the password change")
            XCTAssertEqual(Self.outcome(auth, "Bearer \(bob.token)"), "401", "account deleted")
            clock.now += 1
            XCTAssertEqual(Self.outcome(auth, "Bearer \(alice.token)"), "alice@example.com", "stale: used while it is refreshed")
            clock.now += 1
            XCTAssertEqual(Self.outcome(auth, "Bearer \(alice.token)"), "check", "too old to use")
            versions.remember("alice@example.com", 2)
            clock.now = alice.expiresAt
            versions.remember("alice@example.com", 2)
            XCTAssertEqual(Self.outcome(auth, "Bearer \(alice.token)"), "401", "an expired token is refused, cached or not")
        }
    }

    func testMissingAndForgedTokens() {
        let clock = Clock()
        let signer = ClientTokenSigner(secret: "cache-test-secret-0123456789abcdef0123")
        let forged = ClientTokenSigner(secret: "another-secret-0123456789abcdef0123456").issue(subject: "alice@example.com", version: 1, now: clock.now)
        onLoop {
            let auth = BearerAuthenticator(signer: signer, versions: Self.versions(clock), now: { clock.now })
            guard case .rejected(let missing) = auth.authenticate(Self.request(nil)) else { return XCTFail() }
            XCTAssertEqual(missing.response.header("WWW-Authenticate"), "Bearer")
            guard case .rejected(let bad) = auth.authenticate(Self.request("Bearer \(forged.token)")) else { return XCTFail() }
            XCTAssertEqual(bad.response.header("WWW-Authenticate"), #"Bearer error="invalid_token""#)
        }
    }

    func testADatabaseFailureDuringTheCheckIs503() {
        let clock = Clock()
        let signer = ClientTokenSigner(secret: "cache-test-secret-0123456789abcdef0123")
        let token = signer.issue(subject: "alice@example.com", version: 1, now: clock.now)
        let done = expectation(description: "checked")
        let box = UnsafeTransfer(EventLoop.queue.sync { LoopActor.assumeIsolated { BearerAuthenticator(signer: signer, versions: Self.versions(clock), now: { clock.now }) } })
        spawnOnLoop {
            guard case .rejected(let error) = await box.value.checkVersion(jid: "alice@example.com", version: 1) else { return XCTFail() }
            XCTAssertEqual(error.code, "database_unavailable")
            _ = token
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
    }
}
