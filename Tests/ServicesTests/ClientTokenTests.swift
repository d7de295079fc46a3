import Foundation
import Codecs
import Services
import SwitchboardTesting
import XCTest

final class ClientTokenTests: XCTestCase {
    struct Fixtures: Decodable {
        let secret: String
        let now: Int64
        let accept: [String: String]
        let reject: [String: String]
    }

    private func fixtures() throws -> Fixtures {
        try JSONDecoder().decode(Fixtures.self, from: TestSupport.fixture("jwt/pyjwt_tokens.json"))
    }

    func testIssuedTokenVerifiesAndCarriesItsSubject() {
        let signer = ClientTokenSigner(secret: "a-long-enough-secret-for-this-test-only!")
        let issued = signer.issue(subject: "alice@example.com", version: 1, now: 1_000)
        XCTAssertEqual(issued.expiresAt, 1_000 + 86_400)
        XCTAssertEqual(signer.verify(issued.token, now: 1_001), .success("alice@example.com"))
        XCTAssertEqual(signer.verify(issued.token, now: issued.expiresAt), .failure(.expired))
        XCTAssertEqual(ClientTokenSigner(secret: "another-secret-of-sufficient-length!!").verify(issued.token, now: 1_001),
                       .failure(.badSignature))
    }

    func testPyJWTTokensVerify() throws {
        let f = try fixtures()
        let signer = ClientTokenSigner(secret: f.secret)
        XCTAssertFalse(f.accept.isEmpty)
        for (name, token) in f.accept {
            XCTAssertEqual(signer.verify(token, now: f.now), .success("alice@example.com"), name)
        }
    }

    func testEveryForgeryIsRejected() throws {
        let f = try fixtures()
        let signer = ClientTokenSigner(secret: f.secret)
        XCTAssertGreaterThanOrEqual(f.reject.count, 24)
        for (name, token) in f.reject {
            if case .success = signer.verify(token, now: f.now) { XCTFail("accepted forgery \(name)") }
        }
        // The reasons matter for the algorithm-confusion cases.
        XCTAssertEqual(signer.verify(f.reject["alg_none"]!, now: f.now), .failure(.unsupportedAlgorithm))
        XCTAssertEqual(signer.verify(f.reject["alg_hs512"]!, now: f.now), .failure(.unsupportedAlgorithm))
        XCTAssertEqual(signer.verify(f.reject["alg_es256"]!, now: f.now), .failure(.unsupportedAlgorithm))
        XCTAssertEqual(signer.verify(f.reject["expired"]!, now: f.now), .failure(.expired))
        XCTAssertEqual(signer.verify(f.reject["tampered_signature"]!, now: f.now), .failure(.badSignature))
        XCTAssertEqual(signer.verify(f.reject["forged_payload"]!, now: f.now), .failure(.badSignature))
    }

    /// A header of many members is refused before it is parsed (item 8 of issue 12).
    func testAnOversizedHeaderIsMalformedWithoutParsing() throws {
        let signer = ClientTokenSigner(secret: "header-test-secret-0123456789abcdef0123")
        let token = signer.issue(subject: "alice@example.com", version: 1, now: 1_000).token
        let parts = token.split(separator: ".").map(String.init)
        let members = (0..<40).map { "\"m\($0)\":1" }.joined(separator: ",")
        let header = Base64.urlEncoded(Array(#"{"alg":"HS256","typ":"JWT",\#(members)}"#.utf8))
        XCTAssertGreaterThan(header.utf8.count, ClientTokenSigner.maximumHeaderBytes)
        XCTAssertEqual(signer.verify([header, parts[1], parts[2]].joined(separator: "."), now: 1_000), .failure(.malformed))
        let small = Base64.urlEncoded(Array(#"{"typ":"JWT","alg":"HS256"}"#.utf8))
        XCTAssertEqual(signer.verify([small, parts[1], parts[2]].joined(separator: "."), now: 1_000), .failure(.badSignature),
                       "a short header of another spelling is still read (then its signature checked)")
    }

    func testSwitchboardTokensVerifyInPyJWT() throws {
        let secret = "interop-secret-0123456789abcdef0123456789"
        let now = Int64(Date().timeIntervalSince1970)
        let issued = ClientTokenSigner(secret: secret).issue(subject: "bob@example.com", version: 1, now: now)
        let result = try TestSupport.python("""
            import jwt, sys
            claims = jwt.decode(sys.argv[1], sys.argv[2], algorithms=["HS256"], options={"require": ["sub", "iat", "exp"]})
            print(claims["sub"], claims["exp"] - claims["iat"], claims["ver"])
            """, [issued.token, secret])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "bob@example.com 86400 1")
    }
}
