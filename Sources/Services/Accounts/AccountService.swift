import Dispatch
import Logging
import Loop
import XMPPComponent

/// Accounts (CONTRACTS §1): registration, password change and deletion through XEP-0133 plus the
/// SIP row and the credential version; login checked against ejabberd's own SCRAM row. Every step
/// that fails undoes the earlier ones, so a 5xx leaves nothing half-done.
@LoopActor
public final class AccountService {
    public enum Failure: Error, Equatable, Sendable {
        case invalidUsername, weakPassword, usernameTaken, invalidCredentials
        case xmppUnavailable, databaseUnavailable
    }

    public struct Session: Equatable, Sendable {
        public let jid: String
        public let token: String
        public let expiresAt: Int64
        public let sipUsername: String
        public let sipDomain: String
    }

    /// Runs an XEP-0133 command; nil when ejabberd could not be asked.
    public typealias AdminCommands = @LoopActor (XEP0133.Command) async -> XEP0133.Outcome?

    private let domain: String
    private let sipDomain: String
    private let database: DatabasePool
    private let ejabberdDatabase: DatabasePool
    private let versions: CredentialVersions
    private let ha1s: HA1Directory
    private let admin: AdminCommands
    private let destroyOwnedGroups: @LoopActor (String) async -> Bool
    private let signer: ClientTokenSigner
    private let now: @Sendable () -> Int64
    private let logger: Logger
    /// Checked when the account does not exist, so that an unknown user costs the same PBKDF2 time.
    private let decoy = ScramPassword.derive(String(decoding: SecureRandom.bytes(24).map { 0x41 + $0 % 26 }, as: UTF8.self),
                                             salt: SecureRandom.bytes(16), iterations: 4096)

    /// `ha1s` is told of every SIP credential change; its realm is the SIP domain.
    public init(domain: String, database: DatabasePool, ejabberdDatabase: DatabasePool,
                versions: CredentialVersions, ha1s: HA1Directory, admin: @escaping AdminCommands,
                destroyOwnedGroups: @escaping @LoopActor (String) async -> Bool, signer: ClientTokenSigner,
                now: @escaping @Sendable () -> Int64, logger: Logger) {
        self.domain = domain
        self.sipDomain = ha1s.realm
        self.ha1s = ha1s
        self.database = database
        self.ejabberdDatabase = ejabberdDatabase
        self.versions = versions
        self.admin = admin
        self.destroyOwnedGroups = destroyOwnedGroups
        self.signer = signer
        self.now = now
        self.logger = logger
    }

    public func register(username rawUsername: String, password: String) async -> Result<Session, Failure> {
        guard let username = AccountRules.username(rawUsername) else { return .failure(.invalidUsername) }
        guard AccountRules.password(password) != nil else { return .failure(.weakPassword) }
        let jid = "\(username)@\(domain)"
        switch await admin(.addUser(jid: jid, password: password)) {
        case .completed?: break
        case .alreadyExists?: return .failure(.usernameTaken)
        case .failed(let type, let condition)?:
            logger.error("add-user refused", metadata: ["jid": "\(jid)", "error": "\(type)/\(condition)"])
            return .failure(.xmppUnavailable)
        case .notFound?, nil:
            // No answer: the account may or may not exist now; try to leave nothing behind.
            _ = await admin(.deleteUser(jid: jid))
            return .failure(.xmppUnavailable)
        }
        // A leftover version (an account of that name deleted outside Switchboard) moves on too.
        guard let version = await storeCredentials(username, password, bump: true) else {
            logger.warning("credentials not stored; removing the new account", metadata: ["jid": "\(jid)"])
            _ = await admin(.deleteUser(jid: jid))
            return .failure(.databaseUnavailable)
        }
        return .success(session(username, version: version))
    }

    public func login(username rawUsername: String, password: String) async -> Result<Session, Failure> {
        switch await checkPassword(username: rawUsername, password: password) {
        case .failure(let failure): return .failure(failure)
        case .success(let username):
            // Login refreshes the SIP row: the password may have been changed elsewhere.
            guard let version = await storeCredentials(username, password, bump: false) else { return .failure(.databaseUnavailable) }
            return .success(session(username, version: version))
        }
    }

    /// Changes the password of `jid` (the caller's own account); older tokens stop working.
    public func changePassword(jid: String, old: String, new: String) async -> Result<Session, Failure> {
        guard AccountRules.password(new) != nil else { return .failure(.weakPassword) }
        let username: String
        switch await checkPassword(username: jid, password: old) {
        case .failure(let failure): return .failure(failure)
        case .success(let name): username = name
        }
        switch await admin(.changePassword(jid: jid, password: new)) {
        case .completed?: break
        case .notFound?: return .failure(.invalidCredentials)  // deleted meanwhile
        case .alreadyExists?, .failed?, nil: return .failure(.xmppUnavailable)
        }
        guard let version = await storeCredentials(username, new, bump: true) else {
            // Put the old password back, so the SIP row and the tokens still match the account.
            logger.warning("credentials not stored; restoring the old password", metadata: ["jid": "\(jid)"])
            _ = await admin(.changePassword(jid: jid, password: old))
            return .failure(.databaseUnavailable)
        }
        return .success(session(username, version: version))
    }

    /// Deletes the account, its rooms and what Switchboard keeps for it. Idempotent: after a failure
    /// the call can simply be made again.
    public func delete(jid: String) async -> Result<Void, Failure> {
        guard await destroyOwnedGroups(jid) else { return .failure(.xmppUnavailable) }
        switch await admin(.deleteUser(jid: jid)) {
        case .completed?, .notFound?: break
        case .alreadyExists?, .failed?, nil: return .failure(.xmppUnavailable)
        }
        let username = String(jid.split(separator: "@").first ?? "")
        do {
            _ = try await database.pipeline([
                CredentialVersions.delete(jid),
                Statement("DELETE FROM subscriber WHERE username = $1 AND domain = $2", [username, sipDomain]),
                Statement("DELETE FROM push_registrations WHERE jid = $1", [jid]),
            ])
        } catch {
            return .failure(.databaseUnavailable)
        }
        versions.remember(jid, nil)
        ha1s.remember(username: username, ha1: nil)
        return .success(())
    }

    // MARK: Steps

    /// The localpart when `password` is the account's password. Unknown accounts, wrong passwords and
    /// other domains fail alike, after the same single PBKDF2 run.
    private func checkPassword(username rawUsername: String, password: String) async -> Result<String, Failure> {
        let username = AccountRules.loginName(rawUsername, domain: domain)
        let prepared = AccountRules.password(password)
        var stored: ScramPassword?
        if let username {
            do {
                let row = try await ejabberdDatabase.query(
                    "SELECT password, serverkey, salt, iterationcount FROM users WHERE username = $1 AND server_host = $2",
                    [username, domain])
                stored = row.rows.first.flatMap { r in
                    ScramPassword(password: r[0] ?? "", serverKey: r[1] ?? "", salt: r[2] ?? "", iterationCount: Int(r[3] ?? "") ?? 0)
                }
            } catch {
                return .failure(.databaseUnavailable)
            }
        }
        let candidate = stored ?? decoy
        let matches = await Self.offLoop { candidate.matches(prepared ?? "") }
        guard let username, stored != nil, prepared != nil, matches else { return .failure(.invalidCredentials) }
        return .success(username)
    }

    /// Writes the SIP row and the credential version in one transaction; the version, or nil.
    private func storeCredentials(_ username: String, _ password: String, bump: Bool) async -> Int64? {
        let jid = "\(username)@\(domain)"
        let sip = SIPCredentials(username: username, domain: sipDomain, realm: sipDomain, password: password)
        guard let results = try? await database.pipeline([sip.upsert, CredentialVersions.upsert(jid, bump: bump)]),
              let version = results.last?.value(0, "version").flatMap({ Int64($0) })
        else { return nil }
        versions.remember(jid, version)
        ha1s.remember(username: username, ha1: sip.ha1)
        return version
    }

    private func session(_ username: String, version: Int64) -> Session {
        let jid = "\(username)@\(domain)"
        let issued = signer.issue(subject: jid, version: version, now: now())
        return Session(jid: jid, token: issued.token, expiresAt: issued.expiresAt, sipUsername: username, sipDomain: sipDomain)
    }

    /// CPU-heavy work (PBKDF2, about a millisecond) runs here, off the loop, one at a time and at a
    /// lower priority: a login flood then takes at most one core and the loop keeps the other
    /// (measured: bench/login_flood.py).
    private static let passwordChecks = DispatchQueue(label: "switchboard.password-checks", qos: .utility)

    private static func offLoop<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            passwordChecks.async { continuation.resume(returning: work()) }
        }
    }
}
