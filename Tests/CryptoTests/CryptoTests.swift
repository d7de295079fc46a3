import Codecs
import Crypto
import Foundation
import XCTest

final class CryptoTests: XCTestCase {
    func testHMACMatchesRFCVectors() {
        // RFC 4231 test case 2 and RFC 2202 test case 2.
        XCTAssertEqual(Hex.lower(HMACKey(.sha256, key: "Jefe").mac("what do ya want for nothing?")),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(Hex.lower(HMACKey(.sha1, key: "Jefe").mac("what do ya want for nothing?")),
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

final class Base64Tests: XCTestCase {
    /// RFC 4648 §10 vectors, both alphabets, and the URL-safe round trip of every length up to 64.
    func testRFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.standard(Array(plain.utf8)), encoded)
            let unpadded = encoded.replacingOccurrences(of: "=", with: "")
            XCTAssertEqual(Base64.urlEncoded(Array(plain.utf8)), unpadded)
            XCTAssertEqual(Base64.urlDecoded(Substring(unpadded)), Array(plain.utf8))
        }
        for length in 0...64 {
            let bytes = SecureRandom.bytes(length)
            XCTAssertEqual(Base64.urlDecoded(Substring(Base64.urlEncoded(bytes))), bytes)
        }
    }

    func testNonCanonicalTrailingBitsAreRejected() {
        XCTAssertEqual(Base64.urlDecoded("Zg"), Array("f".utf8))
        XCTAssertNil(Base64.urlDecoded("Zh"), "same byte, non-zero unused bits")
    }
}

final class HMACKeyTests: XCTestCase {
    /// RFC 4231 test case 6: a key longer than the block size is hashed first.
    func testLongKeysAreHashedFirst() {
        let key = [UInt8](repeating: 0xAA, count: 131)
        let message = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        XCTAssertEqual(Hex.lower(HMACKey(.sha256, key: key).mac(message)),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testAPreparedKeyGivesTheSameMACEveryTime() {
        let key = HMACKey(.sha1, key: "Jefe")
        for _ in 0..<3 {
            XCTAssertEqual(Hex.lower(key.mac("what do ya want for nothing?")), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        }
        XCTAssertEqual(key.mac([UInt8]()).count, 20)
    }
}
