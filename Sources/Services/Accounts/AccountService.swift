import Dispatch
import Logging
import Loop
import XMPPComponent

/// Accounts (CONTRACTS §1): registration through XEP-0133 plus the SIP row, and login checked
/// against ejabberd's own SCRAM row. Every step that fails undoes the earlier ones.
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
    private let admin: AdminCommands
    private let signer: ClientTokenSigner
    private let now: @Sendable () -> Int64
    private let logger: Logger
    /// Checked when the account does not exist, so that an unknown user costs the same PBKDF2 time.
    private let decoy = ScramPassword.derive(String(decoding: SecureRandom.bytes(24).map { 0x41 + $0 % 26 }, as: UTF8.self),
                                             salt: SecureRandom.bytes(16), iterations: 4096)

    public init(domain: String, sipDomain: String, database: DatabasePool, ejabberdDatabase: DatabasePool,
                admin: @escaping AdminCommands, signer: ClientTokenSigner, now: @escaping @Sendable () -> Int64, logger: Logger) {
        self.domain = domain
        self.sipDomain = sipDomain
        self.database = database
        self.ejabberdDatabase = ejabberdDatabase
        self.admin = admin
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
        do {
            _ = try await database.run(sipCredentials(username, password).upsert)
        } catch {
            logger.warning("SIP row not written; removing the new account", metadata: ["jid": "\(jid)", "error": "\(error)"])
            _ = await admin(.deleteUser(jid: jid))
            return .failure(.databaseUnavailable)
        }
        return .success(session(username))
    }

    public func login(username rawUsername: String, password: String) async -> Result<Session, Failure> {
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
        // Always one PBKDF2 run, against the decoy when there is nothing to check: same time either way.
        let candidate = stored ?? decoy
        let matches = await Self.offLoop { candidate.matches(prepared ?? "") }
        guard let username, stored != nil, prepared != nil, matches else { return .failure(.invalidCredentials) }
        do {
            _ = try await database.run(sipCredentials(username, password).upsert)
        } catch {
            return .failure(.databaseUnavailable)
        }
        return .success(session(username))
    }

    private func sipCredentials(_ username: String, _ password: String) -> SIPCredentials {
        SIPCredentials(username: username, domain: sipDomain, realm: sipDomain, password: password)
    }

    private func session(_ username: String) -> Session {
        let jid = "\(username)@\(domain)"
        let issued = signer.issue(subject: jid, now: now())
        return Session(jid: jid, token: issued.token, expiresAt: issued.expiresAt, sipUsername: username, sipDomain: sipDomain)
    }

    /// CPU-heavy work (PBKDF2, about a millisecond) off the loop, so other requests do not wait for it.
    private static func offLoop<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }
}
