import Codecs
import Crypto
import XCTest

final class ScramPasswordTests: XCTestCase {
    /// A row copied from a real ejabberd 23.01 (docs/xmpp.md): alice / "alicepw".
    let alice = ScramPassword(password: "sha256:mJgUZOM2ihmBYC+qt+63FVENkE0VTeqFEMqr3Up1x14=",
                              serverKey: "hVUXp7yDF4ZRsyZDXmjsIPnIiPw6fMs7Ne033/a1CPA=",
                              salt: "300JFS26EX+NLLmgMyvwNA==", iterationCount: 4096)

    func testARealEjabberdRowAcceptsOnlyItsPassword() throws {
        let row = try XCTUnwrap(alice)
        XCTAssertEqual(row.hash, .sha256)
        XCTAssertEqual(row.iterations, 4096)
        XCTAssertTrue(row.matches("alicepw"))
        XCTAssertFalse(row.matches("alicepw "))
        XCTAssertFalse(row.matches("Alicepw"))
        XCTAssertFalse(row.matches(""))
    }

    func testDerivedRowsRoundTripForEveryHash() {
        let salt = SecureRandom.bytes(16)
        for hash in [ScramPassword.Hash.sha1, .sha256, .sha512] {
            let row = ScramPassword.derive("pässwörd", salt: salt, iterations: 64, hash: hash)
            XCTAssertTrue(row.matches("pässwörd"), "\(hash)")
            XCTAssertFalse(row.matches("passwort"), "\(hash)")
        }
    }

    func testUnusableRowsAreRefused() {
        XCTAssertNil(ScramPassword(password: "plaintext", serverKey: "", salt: "", iterationCount: 0), "plain-text storage")
        XCTAssertNil(ScramPassword(password: "sha256:not base64!", serverKey: "AAAA", salt: "AAAA", iterationCount: 4096))
        XCTAssertNil(ScramPassword(password: "sha256:AAAA", serverKey: "AAAA", salt: "AAAA", iterationCount: 100_000_000), "absurd cost")
    }

    func testStandardBase64Decoding() {
        XCTAssertEqual(Base64.standardDecoded("Zm9vYg=="), Array("foob".utf8))
        XCTAssertEqual(Base64.standardDecoded("+/8="), [0xFB, 0xFF])
        XCTAssertNil(Base64.standardDecoded("Zm9vYg"), "missing padding")
        XCTAssertNil(Base64.standardDecoded("-_8="), "URL alphabet")
    }
}
