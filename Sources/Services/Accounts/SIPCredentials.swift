import XMPP
import Codecs
import Crypto
public import Postgres

/// The Kamailio `subscriber` row of an account (docs/hooks.md): HA1 = MD5("user:realm:password") and
/// HA1B = MD5("user@domain:realm:password"); the plain password column stays empty.
public struct SIPCredentials: Equatable, Sendable {
    public let username: String
    public let domain: String
    public let ha1: String
    public let ha1b: String

    /// `password` SASLprep'ed, as ejabberd hashes it: every spelling that logs in (NFC or NFD, a
    /// no-break space for a space) gives the one HA1, so devices never flip it; a SIP client digests
    /// that form (for an ASCII password, the password itself). docs/api.md "SIP password".
    public init(username: String, domain: String, realm: String, password: String) {
        self.username = username
        self.domain = domain
        ha1 = Self.md5Hex("\(username):\(realm):\(password)")
        ha1b = Self.md5Hex("\(JID(localpart: username, domain: domain)):\(realm):\(password)")
    }

    static func md5Hex(_ text: String) -> String { Hex.lower(Digest.md5(Array(text.utf8))) }

    /// Insert or refresh the row (a login after a password change elsewhere refreshes it).
    public var upsert: Statement {
        Statement("""
            INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ($1, $2, '', $3, $4)
            ON CONFLICT (username, domain) DO UPDATE SET ha1 = EXCLUDED.ha1, ha1b = EXCLUDED.ha1b
            """, [username, domain, ha1, ha1b])
    }
}
