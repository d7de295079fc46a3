import Crypto
public import Postgres
public import XMPP
public import Logging
public import Loop

/// Accounts (docs/api.md): registration, password change and deletion through XEP-0133 plus the
/// SIP row and the credential version; login checked against ejabberd's own SCRAM row. Every step
/// that fails undoes the earlier ones, so a 5xx leaves nothing half-done.
@LoopActor
public final class AccountService {
    public enum Failure: Error, Equatable, Sendable {
        case invalidUsername, weakPassword, usernameTaken, invalidCredentials
        case xmppUnavailable, databaseUnavailable
        /// Too many password checks waiting (for this account, or in all): try again in a second.
        case busy
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
    private let passwordChecks: PasswordCheckQueue
    /// Checked when the account does not exist, so that an unknown user costs the same PBKDF2 time.
    private let decoy = ScramPassword.derive(String(decoding: SecureRandom.bytes(24).map { 0x41 + $0 % 26 }, as: UTF8.self),
                                             salt: SecureRandom.bytes(16), iterations: 4096)

    /// `ha1s` is told of every SIP credential change; its realm is the SIP domain.
    public init(domain: String, database: DatabasePool, ejabberdDatabase: DatabasePool,
                versions: CredentialVersions, ha1s: HA1Directory, admin: @escaping AdminCommands,
                destroyOwnedGroups: @escaping @LoopActor (String) async -> Bool, signer: ClientTokenSigner,
                now: @escaping @Sendable () -> Int64, passwordChecks: PasswordCheckQueue = PasswordCheckQueue(), logger: Logger) {
        self.passwordChecks = passwordChecks
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

    /// Registers through XEP-0133 add-user, then stores the SIP row and the credential version.
    ///
    /// Never deletes an account it did not provably create (docs/api.md "register"): a name that
    /// already exists is 409 before ejabberd is asked, and when add-user gets no answer the `users`
    /// row decides: it holds this very password (this request created it, or its late answer is still
    /// coming) and the registration completes; otherwise 503 and nothing is touched. The same rule
    /// makes a retried registration with the same password complete instead of answering 409.
    public func register(username rawUsername: String, password: String) async -> Result<Session, Failure> {
        guard let username = AccountRules.newUsername(rawUsername) else { return .failure(.invalidUsername) }
        guard let prepared = AccountRules.password(password) else { return .failure(.weakPassword) }
        let jid = JID(localpart: username, domain: domain).description
        switch await existingAccount(username, holds: prepared) {
        case .failure(let failure): return .failure(failure)
        case .success(true?): return await completeRegistration(username, prepared)
        case .success(false?): return .failure(.usernameTaken)
        case .success(nil): break
        }
        switch await admin(.addUser(jid: jid, password: password)) {
        case .completed?: break
        case .alreadyExists?: return .failure(.usernameTaken)
        case .failed(let error)?:
            logger.error("add-user refused", metadata: ["jid": "\(jid)", "error": "\(error)"])
            return .failure(.xmppUnavailable)
        case .unexpectedAnswer?:
            logger.error("add-user answered without completing", metadata: ["jid": "\(jid)"])
            return .failure(.xmppUnavailable)
        case .notFound?, nil:
            // No answer: only the row can tell whether this request created the account.
            guard case .success(true?) = await existingAccount(username, holds: prepared) else {
                logger.warning("add-user unanswered; the account is left as it is", metadata: ["jid": "\(jid)"])
                return .failure(.xmppUnavailable)
            }
            return await completeRegistration(username, prepared)
        }
        // A leftover version (an account of that name deleted outside Switchboard) moves on too.
        guard let version = await storeCredentials(username, prepared, bump: true) else {
            // add-user answered `completed` just now: this request created the account, so it may undo it.
            logger.warning("credentials not stored; removing the new account", metadata: ["jid": "\(jid)"])
            _ = await admin(.deleteUser(jid: jid))
            return .failure(.databaseUnavailable)
        }
        return .success(session(username, version: version))
    }

    /// An account whose `users` row holds the submitted password: its SIP row and version are stored
    /// as a login would store them (older tokens stay valid: nothing about the account changed).
    private func completeRegistration(_ username: String, _ prepared: String) async -> Result<Session, Failure> {
        guard let version = await storeCredentials(username, prepared, bump: false) else { return .failure(.databaseUnavailable) }
        return .success(session(username, version: version))
    }

    public func login(username rawUsername: String, password: String) async -> Result<Session, Failure> {
        switch await checkPassword(username: rawUsername, password: password) {
        case .failure(let failure): return .failure(failure)
        case .success(let account):
            // Login refreshes the SIP row: the password may have been changed elsewhere. The HA1 comes
            // from the SASLprep'ed password, so equivalent spellings never flip it between devices.
            guard let version = await storeCredentials(account.username, account.prepared, bump: false) else { return .failure(.databaseUnavailable) }
            return .success(session(account.username, version: version))
        }
    }

    /// Changes the password of `jid` (the caller's own account); older tokens stop working.
    ///
    /// The revocation comes first (docs/api.md "password"): the new SIP row and the next credential
    /// version are stored before ejabberd is asked, so no failure after that can leave the old HA1
    /// or the old tokens working with a changed password. When ejabberd refuses, the old SIP row is
    /// put back (the password did not change; the tokens stay revoked: the client logs in again).
    /// When it does not answer, the change may still land: the new row stays, and a login with
    /// whichever password ejabberd ends up with writes the matching one.
    public func changePassword(jid: String, old: String, new: String) async -> Result<Session, Failure> {
        guard let preparedNew = AccountRules.password(new) else { return .failure(.weakPassword) }
        let account: (username: String, prepared: String)
        switch await checkPassword(username: jid, password: old) {
        case .failure(let failure): return .failure(failure)
        case .success(let checked): account = checked
        }
        guard let version = await storeCredentials(account.username, preparedNew, bump: true) else { return .failure(.databaseUnavailable) }
        switch await admin(.changePassword(jid: jid, password: new)) {
        case .completed?:
            return .success(session(account.username, version: version))
        case .notFound?, .alreadyExists?, .failed?, .unexpectedAnswer?:
            logger.warning("change-user-password refused; restoring the old SIP credentials", metadata: ["jid": "\(jid)"])
            _ = await storeCredentials(account.username, account.prepared, bump: false)
            return .failure(.xmppUnavailable)
        case nil:
            logger.warning("change-user-password unanswered; tokens revoked, the new SIP credentials kept", metadata: ["jid": "\(jid)"])
            return .failure(.xmppUnavailable)
        }
    }

    /// Deletes the account, its rooms and what Switchboard keeps for it. Idempotent: after a failure
    /// the call can simply be made again (after a login: the first step revoked the token).
    ///
    /// What Switchboard keeps goes first (tokens revoked, SIP row and push registrations removed), so
    /// a failure later never leaves the old HA1 or tokens working for an account being deleted; a
    /// login revives them consistently if the XMPP account is still there.
    public func delete(jid: String) async -> Result<Void, Failure> {
        let username = JID(jid)?.localpart ?? ""
        do {
            _ = try await database.pipeline([
                CredentialVersions.delete(jid),
                Statement("DELETE FROM subscriber WHERE username = $1 AND domain = $2", [username, sipDomain]),
                PushRegistry.deleteAll(of: jid),
            ])
        } catch {
            return .failure(.databaseUnavailable)
        }
        versions.remember(jid, nil)
        ha1s.remember(username: username, ha1: nil)
        guard await destroyOwnedGroups(jid) else { return .failure(.xmppUnavailable) }
        switch await admin(.deleteUser(jid: jid)) {
        case .completed?, .notFound?: return .success(())
        case .alreadyExists?, .failed?, .unexpectedAnswer?, nil: return .failure(.xmppUnavailable)
        }
    }

    // MARK: Steps

    /// The localpart and the SASLprep'ed password when `password` is the account's password.
    /// Unknown accounts, wrong passwords and other domains fail alike, after the same single PBKDF2 run.
    private func checkPassword(username rawUsername: String, password: String) async -> Result<(username: String, prepared: String), Failure> {
        let username = AccountRules.loginName(rawUsername, domain: domain)
        let prepared = AccountRules.password(password)
        var stored: ScramPassword?
        if let username {
            switch await storedPassword(username) {
            case .failure(let failure): return .failure(failure)
            case .success(let row): stored = row
            }
        }
        let candidate = stored ?? decoy
        guard let matches = await passwordChecks.run(key: username ?? "", { candidate.matches(prepared ?? "") }) else { return .failure(.busy) }
        guard let username, let prepared, stored != nil, matches else { return .failure(.invalidCredentials) }
        return .success((username, prepared))
    }

    /// Whether `username` exists (nil: no) and whether its row holds `prepared` as its password.
    private func existingAccount(_ username: String, holds prepared: String) async -> Result<Bool?, Failure> {
        switch await storedPassword(username) {
        case .failure(let failure): return .failure(failure)
        case .success(nil): return .success(nil)
        case .success(let stored?):
            guard let matches = await passwordChecks.run(key: username, { stored.matches(prepared) }) else { return .failure(.busy) }
            return .success(matches)
        }
    }

    /// ejabberd's SCRAM row for `username` on this domain, read-only.
    private func storedPassword(_ username: String) async -> Result<ScramPassword?, Failure> {
        do {
            let row = try await ejabberdDatabase.query(
                "SELECT password, serverkey, salt, iterationcount FROM users WHERE username = $1 AND server_host = $2",
                [username, domain])
            return .success(row.rows.first.flatMap { r in
                ScramPassword(password: r[0] ?? "", serverKey: r[1] ?? "", salt: r[2] ?? "", iterationCount: Int(r[3] ?? "") ?? 0)
            })
        } catch {
            return .failure(.databaseUnavailable)
        }
    }

    /// Writes the SIP row and the credential version in one transaction; the version, or nil.
    /// `prepared` is the SASLprep'ed password: the HA1 is computed over it (docs/api.md "SIP password").
    private func storeCredentials(_ username: String, _ prepared: String, bump: Bool) async -> Int64? {
        let jid = JID(localpart: username, domain: domain).description
        let sip = SIPCredentials(username: username, domain: sipDomain, realm: sipDomain, password: prepared)
        guard let results = try? await database.pipeline([sip.upsert, CredentialVersions.upsert(jid, bump: bump)]),
              let version = results.last?.value(0, "version").flatMap({ Int64($0) })
        else { return nil }
        versions.remember(jid, version)
        ha1s.remember(username: username, ha1: sip.ha1)
        return version
    }

    private func session(_ username: String, version: Int64) -> Session {
        let jid = JID(localpart: username, domain: domain).description
        let issued = signer.issue(subject: jid, version: version, now: now())
        return Session(jid: jid, token: issued.token, expiresAt: issued.expiresAt, sipUsername: username, sipDomain: sipDomain)
    }
}
