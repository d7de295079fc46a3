import Codecs
import Crypto
import Foundation
import SwitchboardTesting
import XCTest

/// Keys made by Python's cryptography; Swift signs; PyJWT verifies with the public halves.
final class SigningKeyTests: XCTestCase {
    private func keypair(_ kind: String) throws -> (privatePEM: String, publicPEM: String) {
        let result = try TestSupport.python("""
            import json, sys
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ec, rsa
            key = ec.generate_private_key(ec.SECP256R1()) if sys.argv[1] == "ec" else rsa.generate_private_key(public_exponent=65537, key_size=2048)
            private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
            public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
            print(json.dumps([private, public]))
            """, [kind])
        XCTAssertEqual(result.status, 0, result.output)
        let pair = try JSONDecoder().decode([String].self, from: Data(result.output.utf8))
        return (pair[0], pair[1])
    }

    private func verifyInPyJWT(_ token: String, publicPEM: String, algorithm: String) throws -> String {
        let result = try TestSupport.python("""
            import jwt, sys, json
            header = jwt.get_unverified_header(sys.argv[1])
            claims = jwt.decode(sys.argv[1], sys.argv[2], algorithms=[sys.argv[3]], options={"verify_aud": False, "verify_exp": False})
            print(json.dumps({"kid": header.get("kid"), "iss": claims.get("iss"), "iat": claims.get("iat")}, sort_keys=True))
            """, [token, publicPEM, algorithm])
        XCTAssertEqual(result.status, 0, result.output)
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testES256TokensLikeAnAPNsProviderTokenVerifyInPyJWT() throws {
        let pair = try keypair("ec")
        let key = try SigningKey(pem: pair.privatePEM, algorithm: .es256)
        for _ in 0..<5 {  // r and s of every length must pad to 32 bytes each
            let token = JWS.sign(header: [("kid", .string("ABC123DEFG"))],
                                 claims: .object([("iss", .string("DEF123ABCG")), ("iat", .int(1_700_000_000))]), with: key)
            XCTAssertEqual(try verifyInPyJWT(token, publicPEM: pair.publicPEM, algorithm: "ES256"),
                           #"{"iat": 1700000000, "iss": "DEF123ABCG", "kid": "ABC123DEFG"}"#)
        }
    }

    func testRS256TokensLikeAGoogleServiceAccountAssertionVerifyInPyJWT() throws {
        let pair = try keypair("rsa")
        let key = try SigningKey(pem: pair.privatePEM, algorithm: .rs256)
        let token = JWS.sign(header: [], claims: .object([("iss", .string("fcm@project.iam.gserviceaccount.com")), ("iat", .int(1))]), with: key)
        XCTAssertEqual(try verifyInPyJWT(token, publicPEM: pair.publicPEM, algorithm: "RS256"),
                       #"{"iat": 1, "iss": "fcm@project.iam.gserviceaccount.com", "kid": null}"#)
    }

    func testWrongOrBrokenKeysAreRefused() throws {
        let ec = try keypair("ec")
        XCTAssertThrowsError(try SigningKey(pem: ec.privatePEM, algorithm: .rs256)) {
            XCTAssertEqual($0 as? SigningKey.LoadError, .wrongType(expected: .rs256, found: "an EC key of 256 bits"))
        }
        XCTAssertThrowsError(try SigningKey(pem: "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", algorithm: .es256)) {
            XCTAssertEqual($0 as? SigningKey.LoadError, .unreadable)
        }
        XCTAssertThrowsError(try SigningKey(pem: ec.publicPEM, algorithm: .es256), "a public key is not a signing key")
    }
}
