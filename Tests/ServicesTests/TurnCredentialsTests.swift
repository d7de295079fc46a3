import Crypto
import Services
import XCTest

final class TurnCredentialsTests: XCTestCase {
    /// The password was computed outside Switchboard, with Python's hmac module:
    /// base64(hmac.new(b"spike-turn-secret", b"1700086400:alice@example.com", sha1).digest()).
    func testCredentialsMatchAnIndependentComputation() {
        let credentials = TurnCredentials.make(secret: HMACKey(.sha1, key: "spike-turn-secret"), jid: "alice@example.com", ttl: 86_400,
                                               uris: ["turn:127.0.0.1:3478?transport=udp"], now: 1_700_000_000)
        XCTAssertEqual(credentials.username, "1700086400:alice@example.com")
        XCTAssertEqual(credentials.password, "mcxO/r0FWjoTHk5Y4Nb2D54KcCA=")
        XCTAssertEqual(credentials.ttl, 86_400)
        XCTAssertEqual(credentials.uris, ["turn:127.0.0.1:3478?transport=udp"])
    }

    func testExpiryFollowsTheTTL() {
        let credentials = TurnCredentials.make(secret: HMACKey(.sha1, key: "s"), jid: "bob@example.com", ttl: 60, uris: [], now: 100)
        XCTAssertTrue(credentials.username.hasPrefix("160:"))
    }
}
