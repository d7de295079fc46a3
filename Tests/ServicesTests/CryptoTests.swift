import Services
import XCTest

final class CryptoTests: XCTestCase {
    func testHMACMatchesRFCVectors() {
        // RFC 4231 test case 2 and RFC 2202 test case 2.
        XCTAssertEqual(Hex.lower(HMAC.sha256(key: "Jefe", message: "what do ya want for nothing?")),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(Hex.lower(HMAC.sha1(key: "Jefe", message: "what do ya want for nothing?")),
                       "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    }

    func testConstantTimeEquality() {
        XCTAssertTrue(ConstantTime.equals("abc", "abc"))
        XCTAssertFalse(ConstantTime.equals("abc", "abd"))
        XCTAssertFalse(ConstantTime.equals("abc", "abcd"))
        XCTAssertTrue(ConstantTime.equals("", ""))
    }

    func testBase64URLIsStrict() {
        XCTAssertEqual(Base64.urlEncoded([0xFB, 0xFF]), "-_8")
        XCTAssertEqual(Base64.urlDecoded("-_8"), [0xFB, 0xFF])
        XCTAssertNil(Base64.urlDecoded("+/8"), "standard alphabet is not base64url")
        XCTAssertNil(Base64.urlDecoded("-_8="), "padding is not allowed in JWS")
        XCTAssertNil(Base64.urlDecoded("A"), "a single trailing character cannot encode a byte")
    }

    func testSecureRandomGivesDistinctValues() {
        XCTAssertEqual(SecureRandom.bytes(32).count, 32)
        XCTAssertNotEqual(SecureRandom.bytes(16), SecureRandom.bytes(16))
    }
}
