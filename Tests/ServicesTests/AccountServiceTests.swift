import Codecs
import Crypto
import Postgres
import XMPP
import Foundation
import Logging
import Loop
import Services
import SwitchboardTesting
import XCTest

/// AccountService against a real PostgreSQL, with ejabberd's admin commands scripted: the
/// register, password-change and delete rules of docs/api.md ("no half-done states on a 5xx").
final class AccountServiceTests: DatabaseTestCase {
    /// ejabberd as the admin closure sees it: records each command; `answer` scripts the outcome (and
    /// may write the `users` row, as a late add-user would).
    @LoopActor
    final class ScriptedAdmin {
        var commands: [XEP0133.Command] = []
        var answer: (XEP0133.Command) async -> XEP0133.Outcome? = { _ in .completed }
        func run(_ command: XEP0133.Command) async -> XEP0133.Outcome? {
            commands.append(command)
            return await answer(command)
        }
    }

    private static let domain = "example.com"

    @LoopActor
    private static func addUsersRow(_ pool: DatabasePool, _ username: String, password: String) async throws {
        let scram = ScramPassword.derive(AccountRules.password(password)!, salt: Array("saltsaltsalt".utf8), iterations: 4096)
        _ = try await pool.query("INSERT INTO users (username, server_host, password, serverkey, salt, iterationcount) VALUES ($1, $2, $3, $4, $5, 4096)",
                                 [username, domain, "sha256:" + Base64.standard(scram.storedKey), Base64.standard(scram.serverKey), Base64.standard(scram.salt)])
    }

    @LoopActor
    private static func ha1(_ pool: DatabasePool, _ username: String) async throws -> String? {
        try await pool.query("SELECT ha1 FROM subscriber WHERE username = $1", [username]).value(0, "ha1")
    }

    @LoopActor
    private static func version(_ pool: DatabasePool, _ jid: String) async throws -> String? {
        try await pool.query("SELECT version FROM account_credentials WHERE jid = $1 AND deleted_at IS NULL", [jid]).value(0, "version")
    }

    /// A fresh schema with Switchboard's tables and ejabberd's `users`, and a service on it.
    private func withService(_ body: @escaping @Sendable @LoopActor (AccountService, ScriptedAdmin, DatabasePool) async throws -> Void) throws {
        try withFreshSchema { pool, _ in
            _ = try await MigrationRunner.apply(SchemaMigrations.all, to: pool)
            _ = try await pool.query("CREATE TABLE users (username text NOT NULL, server_host text NOT NULL, password text NOT NULL, serverkey text NOT NULL DEFAULT '', salt text NOT NULL DEFAULT '', iterationcount integer NOT NULL DEFAULT 0, PRIMARY KEY (server_host, username))")
            let admin = ScriptedAdmin()
            let clock: @Sendable () -> Double = { Date().timeIntervalSince1970 }
            let versions = CredentialVersions(database: pool, now: clock)
            let service = AccountService(
                domain: Self.domain, database: pool, ejabberdDatabase: pool, versions: versions,
                ha1s: HA1Directory(realm: Self.domain, database: pool, now: clock), admin: { await admin.run($0) },
                destroyOwnedGroups: { _ in true }, signer: ClientTokenSigner(secret: String(repeating: "k", count: 32)),
                now: { Int64(Date().timeIntervalSince1970) }, logger: Logger(label: "test"))
            try await body(service, admin, pool)
        }
    }

    /// C2 of the review: add-user unanswered while the name belongs to someone else: nothing is deleted.
    func testRegisterNeverDeletesAnAccountItDidNotCreate() throws {
        try withService { service, admin, pool in
            try await Self.addUsersRow(pool, "bob", password: "bob's own password")
            let taken = await service.register(username: "bob", password: "attacker password")
            XCTAssertEqual(taken.failure, .usernameTaken)
            XCTAssertEqual(admin.commands, [], "an existing name is 409 before ejabberd is asked")

            // The row appears while add-user goes unanswered (another registration won the race).
            admin.answer = { _ in try? await Self.addUsersRow(pool, "carol", password: "someone else's password"); return nil }
            let raced = await service.register(username: "carol", password: "attacker password")
            XCTAssertEqual(raced.failure, .xmppUnavailable)
            XCTAssertEqual(admin.commands, [.addUser(jid: "carol@example.com", password: "attacker password")], "no delete-user")

            // No answer and no row: 503, and still nothing is deleted.
            admin.commands = []
            admin.answer = { _ in nil }
            let unanswered = await service.register(username: "dave", password: "dave's password")
            XCTAssertEqual(unanswered.failure, .xmppUnavailable)
            XCTAssertEqual(admin.commands, [.addUser(jid: "dave@example.com", password: "dave's password")])
        }
    }

    /// When the late add-user did create the account with this password, registration completes; so
    /// does a retry after a 503 once the account exists.
    func testRegisterCompletesWhenTheRowHoldsThisPassword() throws {
        try withService { service, admin, pool in
            admin.answer = { command in
                if case .addUser(let jid, let password) = command { try? await Self.addUsersRow(pool, String(jid.prefix { $0 != "@" }), password: password) }
                return nil
            }
            let late = await service.register(username: "erin", password: "erin's password")
            XCTAssertEqual(late.success?.jid, "erin@example.com")
            let erinHA1 = try await Self.ha1(pool, "erin")
            XCTAssertNotNil(erinHA1)

            admin.commands = []
            admin.answer = { _ in nil }
            try await Self.addUsersRow(pool, "frank", password: "frank's password")  // a 503'd registration landed later
            let retried = await service.register(username: "frank", password: "frank's password")
            XCTAssertEqual(retried.success?.jid, "frank@example.com")
            XCTAssertEqual(admin.commands, [], "completed from the row, ejabberd not asked again")
            let frankVersion = try await Self.version(pool, "frank@example.com")
            XCTAssertEqual(frankVersion, "1")
        }
    }

    /// M9: a login with an equivalent but byte-different password (NFD, a no-break space) leaves the
    /// HA1 as it is: it is computed over the SASLprep'ed password.
    func testEquivalentPasswordsNeverFlipTheHA1() throws {
        try withService { service, admin, pool in
            admin.answer = { command in
                if case .addUser(let jid, let password) = command { try? await Self.addUsersRow(pool, String(jid.prefix { $0 != "@" }), password: password) }
                return .completed
            }
            let registration = await service.register(username: "gina", password: "p\u{E4}ssword one")
            XCTAssertNotNil(registration.success)
            let registered = try await Self.ha1(pool, "gina")
            XCTAssertEqual(registered, SIPCredentials(username: "gina", domain: Self.domain, realm: Self.domain, password: "p\u{E4}ssword one").ha1)
            let equivalentLogin = await service.login(username: "gina", password: "pa\u{308}ssword\u{A0}one")
            XCTAssertNotNil(equivalentLogin.success, "ejabberd's rule: the same password")
            let afterLogin = try await Self.ha1(pool, "gina")
            XCTAssertEqual(afterLogin, registered)
        }
    }

    /// M9: a password change that ejabberd refuses or leaves unanswered never leaves the old tokens
    /// working; refused, the old HA1 is back; unanswered, the new one stays (the change may land).
    func testPasswordChangeRevokesFirst() throws {
        try withService { service, admin, pool in
            try await Self.addUsersRow(pool, "hal", password: "old password")
            let jid = "hal@example.com"
            let oldHA1 = SIPCredentials(username: "hal", domain: Self.domain, realm: Self.domain, password: "old password").ha1
            let newHA1 = SIPCredentials(username: "hal", domain: Self.domain, realm: Self.domain, password: "new password").ha1
            let firstLogin = await service.login(username: "hal", password: "old password")
            XCTAssertNotNil(firstLogin.success)
            let versionAtLogin = try await Self.version(pool, jid)
            XCTAssertEqual(versionAtLogin, "1")

            let wrongOld = await service.changePassword(jid: jid, old: "wrong password", new: "new password")
            XCTAssertEqual(wrongOld.failure, .invalidCredentials)
            XCTAssertEqual(admin.commands, [], "a wrong old password changes nothing")
            let versionAfterWrongOld = try await Self.version(pool, jid)
            XCTAssertEqual(versionAfterWrongOld, "1")

            admin.answer = { _ in .failed(StanzaError(.cancel, .internalServerError)) }
            let refused = await service.changePassword(jid: jid, old: "old password", new: "new password")
            XCTAssertEqual(refused.failure, .xmppUnavailable)
            let versionAfterRefusal = try await Self.version(pool, jid)
            XCTAssertEqual(versionAfterRefusal, "2", "tokens revoked")
            let ha1AfterRefusal = try await Self.ha1(pool, "hal")
            XCTAssertEqual(ha1AfterRefusal, oldHA1, "refused: the old SIP password is back")

            admin.answer = { _ in nil }
            let unansweredChange = await service.changePassword(jid: jid, old: "old password", new: "new password")
            XCTAssertEqual(unansweredChange.failure, .xmppUnavailable)
            let versionAfterSilence = try await Self.version(pool, jid)
            XCTAssertEqual(versionAfterSilence, "3")
            let ha1AfterSilence = try await Self.ha1(pool, "hal")
            XCTAssertEqual(ha1AfterSilence, newHA1, "unanswered: the change may land; no old credential stays valid")

            admin.answer = { _ in .completed }
            let changed = await service.changePassword(jid: jid, old: "old password", new: "new password")
            XCTAssertEqual(changed.success?.jid, jid)
            let versionAfterChange = try await Self.version(pool, jid)
            XCTAssertEqual(versionAfterChange, "4")
        }
    }

    /// M9: a delete that fails at ejabberd has already revoked the tokens and removed the SIP row.
    func testDeleteRevokesBeforeAskingEjabberd() throws {
        try withService { service, admin, pool in
            try await Self.addUsersRow(pool, "ivy", password: "ivy's password")
            let login = await service.login(username: "ivy", password: "ivy's password")
            XCTAssertNotNil(login.success)
            admin.answer = { _ in nil }
            let failedDelete = await service.delete(jid: "ivy@example.com")
            XCTAssertEqual(failedDelete.failure, .xmppUnavailable)
            let ha1AfterFailedDelete = try await Self.ha1(pool, "ivy")
            XCTAssertNil(ha1AfterFailedDelete, "no SIP credentials left")
            let versionAfterFailedDelete = try await Self.version(pool, "ivy@example.com")
            XCTAssertNil(versionAfterFailedDelete, "no token works")
            // A login revives the account consistently; the retried delete completes.
            let revived = await service.login(username: "ivy", password: "ivy's password")
            XCTAssertNotNil(revived.success)
            admin.answer = { _ in .completed }
            let retriedDelete = await service.delete(jid: "ivy@example.com")
            XCTAssertNotNil(retriedDelete.success)
            XCTAssertEqual(admin.commands.last, .deleteUser(jid: "ivy@example.com"))
        }
    }
}

extension Result {
    var failure: Failure? { if case .failure(let f) = self { return f }; return nil }
    var success: Success? { if case .success(let s) = self { return s }; return nil }
}
