import Services
import Crypto
import Config
import Foundation
import SwitchboardTesting
import XCTest

/// Key files as operators get them (docs/configuration.md): a `.p8` from Apple, a service-account JSON from
/// Google, a CA bundle; and the broken ones, each reported at start-up by variable with its reason.
final class KeyFileTests: XCTestCase {
    /// Made once by Python's cryptography: real keys in the formats the vendors issue.
    struct Materials: Decodable {
        let ec: String, rsa: String, rsa1024: String, encrypted: String, certificate: String
        /// Pretty-printed as Google issues it: the ten usual fields, `\n` escapes inside `private_key`.
        let serviceAccount: String
    }

    static func materials() throws -> Materials {
        if let made = made { return made }
        let result = try TestSupport.python("""
            import json
            from datetime import datetime, timedelta, timezone
            from cryptography import x509
            from cryptography.x509.oid import NameOID
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec, rsa
            def pkcs8(key, encryption=serialization.NoEncryption()):
                return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
            ec_key = ec.generate_private_key(ec.SECP256R1())
            rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
            now = datetime.now(timezone.utc)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ec_key.public_key())
                    .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(ec_key, hashes.SHA256()))
            account = {
                "type": "service_account", "project_id": "switchboard-test", "private_key_id": "0123456789abcdef0123456789abcdef01234567",
                "private_key": pkcs8(rsa_key), "client_email": "push@switchboard-test.iam.gserviceaccount.com",
                "client_id": "123456789012345678901", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": "https://oauth2.googleapis.com/token", "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/push%40switchboard-test.iam.gserviceaccount.com",
                "universe_domain": "googleapis.com",
            }
            print(json.dumps({
                "ec": pkcs8(ec_key), "rsa": pkcs8(rsa_key),
                "rsa1024": pkcs8(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
                "encrypted": pkcs8(ec_key, serialization.BestAvailableEncryption(b"passphrase")),
                "certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
                "serviceAccount": json.dumps(account, indent=2) + "\\n",
            }))
            """)
        XCTAssertEqual(result.status, 0, result.output)
        made = try JSONDecoder().decode(Materials.self, from: Data(result.output.utf8))
        return made!
    }

    nonisolated(unsafe) private static var made: Materials?

    private static let secrets: [String: String] = ConfigurationReaderTests.minimal

    private func read(_ env: [String: String], files: [String: String]) -> Result<Configuration, ConfigurationErrors> {
        ConfigurationReader.read(Self.secrets.merging(env) { $1 }, readFile: { files[$0].map { Array($0.utf8) } })
    }

    private func problems(_ env: [String: String], files: [String: String]) -> [ConfigurationProblem] {
        if case .failure(let errors) = read(env, files: files) { return errors.problems }
        return []
    }

    private static let apns = ["APNS_KEY_FILE": "/keys/AuthKey.p8", "APNS_KEY_ID": "ABC123DEFG", "APNS_TEAM_ID": "DEF123ABCG"]

    func testAGoogleServiceAccountAndAnAppleKeyLoad() throws {
        let m = try Self.materials()
        XCTAssertTrue(m.serviceAccount.contains("\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMII"), "pretty-printed, escaped newlines")
        let c = try read(Self.apns.merging(["FCM_SERVICE_ACCOUNT_FILE": "/keys/sa.json", "PUSH_CA_FILE": "/keys/ca.pem"]) { $1 },
                         files: ["/keys/AuthKey.p8": m.ec, "/keys/sa.json": m.serviceAccount, "/keys/ca.pem": m.certificate + m.certificate]).get()
        let account = try XCTUnwrap(c.fcmServiceAccount)
        XCTAssertEqual(account.projectID, "switchboard-test")
        XCTAssertEqual(account.clientEmail, "push@switchboard-test.iam.gserviceaccount.com")
        XCTAssertEqual(account.tokenURI, "https://oauth2.googleapis.com/token")
        XCTAssertEqual(account.key.algorithm, .rs256)
        XCTAssertEqual(account.key.sign(Array("x".utf8)).count, 256, "a 2048-bit RSA signature")
        XCTAssertEqual(c.apns?.keyFile, "/keys/AuthKey.p8")
        XCTAssertEqual(c.apns?.keyID, "ABC123DEFG")
        XCTAssertEqual(c.apns?.key.sign(Array("x".utf8)).count, 64, "ES256 r‖s")
        XCTAssertEqual(c.pushCAFile, "/keys/ca.pem")
    }

    /// A private key every user of the host can read is a start-up warning (not a refusal: a
    /// container may mount it so), naming the file and the fix; a CA bundle is public anyway.
    func testKeyFilesOthersCanReadAreWarnedAbout() throws {
        let m = try Self.materials()
        let env = Self.secrets.merging(Self.apns) { $1 }.merging(["FCM_SERVICE_ACCOUNT_FILE": "/keys/sa.json", "PUSH_CA_FILE": "/keys/ca.pem"]) { $1 }
        let files = ["/keys/AuthKey.p8": m.ec, "/keys/sa.json": m.serviceAccount, "/keys/ca.pem": m.certificate]
        let modes: [String: UInt32] = ["/keys/AuthKey.p8": 0o644, "/keys/sa.json": 0o640, "/keys/ca.pem": 0o644]
        let c = try ConfigurationReader.read(env, readFile: { files[$0].map { Array($0.utf8) } }, fileMode: { modes[$0] }).get()
        XCTAssertEqual(c.warnings, ["APNS_KEY_FILE: '/keys/AuthKey.p8' holds a private key that every user of this host can read (mode 644). Fix: chmod o-r '/keys/AuthKey.p8'"],
                       "the service account is readable by its group only: no warning; the CA bundle is no secret")
        let strict = try ConfigurationReader.read(env, readFile: { files[$0].map { Array($0.utf8) } }, fileMode: { _ in 0o600 }).get()
        XCTAssertEqual(strict.warnings, [])
    }

    /// Each broken file is named by its variable with what is wrong, all in one report.
    func testBrokenKeyFilesAreEachReportedWithTheRest() throws {
        let m = try Self.materials()
        func only(_ env: [String: String], _ files: [String: String], file: StaticString = #filePath, line: UInt = #line) -> String {
            let found = problems(env, files: files)
            XCTAssertEqual(found.count, 1, "\(found)", file: file, line: line)
            return found.first.map { "\($0.variable): \($0.problem)" } ?? ""
        }
        let sa = ["FCM_SERVICE_ACCOUNT_FILE": "/sa.json"]
        func account(_ change: (inout [String: Any]) -> Void) throws -> String {
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(m.serviceAccount.utf8)) as? [String: Any])
            change(&object)
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]), as: UTF8.self)
        }
        XCTAssertEqual(only(sa, [:]), "FCM_SERVICE_ACCOUNT_FILE: '/sa.json' is not a readable file")
        XCTAssertEqual(only(sa, ["/sa.json": "{\"type\": \"service_account\","]), "FCM_SERVICE_ACCOUNT_FILE: '/sa.json' is not JSON")
        XCTAssertTrue(only(sa, ["/sa.json": #"{"project_info": {"project_id": "x"}}"#]).contains("is not a service-account key (its \"type\" is missing"))
        XCTAssertEqual(only(sa, ["/sa.json": try account { $0["private_key"] = nil; $0["token_uri"] = "" }]),
                       "FCM_SERVICE_ACCOUNT_FILE: '/sa.json' has no \"private_key\", \"token_uri\" text field")
        XCTAssertEqual(only(sa, ["/sa.json": try account { $0["private_key"] = m.ec }]),
                       "FCM_SERVICE_ACCOUNT_FILE: '/sa.json' \"private_key\" holds an EC key of 256 bits, not an RSA key of 2048 bits or more")
        XCTAssertEqual(only(sa, ["/sa.json": try account { $0["private_key"] = m.rsa1024 }]),
                       "FCM_SERVICE_ACCOUNT_FILE: '/sa.json' \"private_key\" holds an RSA key of 1024 bits, not an RSA key of 2048 bits or more")
        XCTAssertEqual(only(sa, ["/sa.json": try account { $0["token_uri"] = "http://oauth2.example.net/token" }]),
                       "FCM_SERVICE_ACCOUNT_FILE: '/sa.json' has a token_uri that is not https (http://oauth2.example.net/token)",
                       "the signed assertion and the access token must not travel in the clear")
        XCTAssertTrue(problems(sa.merging(["SWITCHBOARD_ENV": "development"]) { $1 },
                               files: ["/sa.json": try account { $0["token_uri"] = "http://127.0.0.1:9444/token" }]).isEmpty,
                      "development allows a local fake")
        XCTAssertEqual(only(sa, ["/sa.json": try account { $0["private_key"] = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" }]),
                       "FCM_SERVICE_ACCOUNT_FILE: '/sa.json' \"private_key\" holds no PEM private key (no -----BEGIN PRIVATE KEY----- block)")

        let p8 = "/keys/AuthKey.p8"
        XCTAssertEqual(only(Self.apns, [p8: m.rsa]), "APNS_KEY_FILE: '\(p8)' holds an RSA key of 2048 bits, not the P-256 EC key of an APNs .p8 file")
        XCTAssertEqual(only(Self.apns, [p8: m.encrypted]), "APNS_KEY_FILE: '\(p8)' holds an encrypted private key; Switchboard cannot ask for its passphrase")
        XCTAssertEqual(only(Self.apns, [p8: "-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n"]),
                       "APNS_KEY_FILE: '\(p8)' holds a PEM block that OpenSSL cannot read as a private key")
        XCTAssertEqual(only(Self.apns, [p8: m.certificate]), "APNS_KEY_FILE: '\(p8)' holds no PEM private key (no -----BEGIN PRIVATE KEY----- block)",
                       "a certificate is not a key")

        let ca = ["PUSH_CA_FILE": "/ca.pem"]
        XCTAssertEqual(only(ca, ["/ca.pem": m.ec]), "PUSH_CA_FILE: '/ca.pem' holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)")
        let corrupt = m.certificate.replacingOccurrences(of: "\n", with: "\n!", options: [], range: m.certificate.index(m.certificate.startIndex, offsetBy: 40)..<m.certificate.index(m.certificate.startIndex, offsetBy: 120))
        XCTAssertEqual(only(ca, ["/ca.pem": m.certificate + corrupt]), "PUSH_CA_FILE: '/ca.pem' certificate 2 of 2 is not one OpenSSL can read")

        // Everything at once: one report, each by name.
        let all = problems(Self.apns.merging(sa.merging(ca) { $1 }) { $1 }.merging(["APNS_TEAM_ID": "team"]) { $1 },
                           files: [p8: m.rsa, "/sa.json": "[]", "/ca.pem": ""])
        XCTAssertEqual(all.map(\.variable).sorted(), ["APNS_KEY_FILE", "APNS_TEAM_ID", "FCM_SERVICE_ACCOUNT_FILE", "PUSH_CA_FILE"])
        XCTAssertFalse(all.map(\.fix).contains(""), "every problem says how to fix it")
    }
}
