import XMPP
import Crypto

/// What a username and a password must be (docs/api.md), checked before anything is sent to
/// ejabberd: its add-user crashes, instead of answering, on a password SASLprep rejects or one over
/// 1023 bytes.
///
/// Every input is bounded in bytes *before* stringprep: libidn's nodeprep is quadratic in the
/// length (60 KiB of U+0390 costs ~0.45 s of CPU, docs/api.md "Input is bounded"), and it runs on
/// the loop.
public enum AccountRules {
    public static let passwordBytes = 8...1023
    public static let usernameBytes = 1...64
    /// The most bytes of a name (or password) that reach stringprep at all; longer ones are refused.
    public static let maximumInputBytes = 1023

    /// The localpart to use: nodeprep'ed, and changed by it at most by case folding. Compared as
    /// bytes: Swift's `==` treats canonically equivalent strings as equal, so "e\u{301}x" would pass
    /// as "éx" although nodeprep's NFKC changed it.
    public static func username(_ raw: String) -> String? {
        guard raw.utf8.count <= maximumInputBytes, let prepared = StringPrep.nodeprep(raw),
              usernameBytes.contains(prepared.utf8.count) else { return nil }
        guard prepared.utf8.elementsEqual(raw.utf8) || prepared.utf8.elementsEqual(raw.lowercased().utf8) else { return nil }
        return prepared
    }

    /// The username of a new account: a ``username(_:)`` that a SIP URI also carries as it is. The
    /// account's SIP user is its username, and Kamailio compares the digest's `username` with the
    /// From URI's user part unescaped; a name that needs %-escaping in a URI (any non-ASCII letter,
    /// among others) got 403 "Auth User Mismatch" on every call. So new names keep to RFC 3261's
    /// unescaped user characters that nodeprep leaves: ASCII letters and digits and `-_.!~*()=+$,;?`.
    /// (Existing accounts keep their names; they still log in and can be group members.)
    public static func newUsername(_ raw: String) -> String? {
        guard let name = username(raw), name.utf8.allSatisfy(isSIPUserCharacter) else { return nil }
        return name
    }

    private static func isSIPUserCharacter(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || sipMarks.contains(c)
    }

    private static let sipMarks = Set("-_.!~*()=+$,;?".utf8)

    /// The localpart of a login name: a username, or a bare JID on `domain`.
    public static func loginName(_ raw: String, domain: String) -> String? {
        guard raw.contains("@") else { return localpart(raw) }
        guard let jid = JID(raw), jid.isBare, jid.domain.lowercased() == domain, let name = jid.localpart else { return nil }
        return localpart(name)
    }

    /// Whether a `jid` a client sent names `account` (a bare JID as tokens carry it): the domain
    /// compared without case, the localpart as nodeprep leaves it, a resource ignored.
    public static func names(_ jid: String, account: String) -> Bool {
        guard let named = JID(jid), let mine = JID(account), let name = named.localpart, let myName = mine.localpart,
              named.domain.lowercased() == mine.domain else { return false }
        return localpart(name) == myName
    }

    /// A localpart as ejabberd would look it up (nodeprep'ed), or nil when it cannot name an account
    /// (also the login rate limiter's key).
    public static func localpart(_ raw: String) -> String? {
        guard raw.utf8.count <= maximumInputBytes, let prepared = StringPrep.nodeprep(raw),
              usernameBytes.contains(prepared.utf8.count) else { return nil }
        return prepared
    }

    /// The SASLprep'ed password (what ejabberd hashes), or nil when it is unacceptable.
    public static func password(_ raw: String) -> String? {
        guard passwordBytes.contains(raw.utf8.count), let prepared = StringPrep.saslprep(raw), !prepared.isEmpty else { return nil }
        return prepared
    }
}
