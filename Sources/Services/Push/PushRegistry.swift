import Codecs
import Crypto
public import Logging
public import Loop
public import Postgres

/// What the XEP-0357 app server and delivery need from the registrations: the registration behind
/// a node, and a way to mark a token dead. ``PushRegistry`` keeps them in PostgreSQL; tests keep
/// them in memory.
@LoopActor
public protocol PushRegistrationStore: AnyObject {
    /// The registration whose node is `node`; nil when there is none.
    func registration(forNode node: String) async throws(DatabaseError) -> NodeRegistration?
    /// Marks `target`'s token dead, unless it was registered again after `since` (APNs 410, ms).
    func markDead(_ target: PushTarget, since: Int64?) async
}

/// A registration as a publish for its node finds it.
public struct NodeRegistration: Sendable, Equatable {
    public let secret: String
    /// The provider said the push token is dead: the node is gone for ejabberd too.
    public let tokenDead: Bool
    /// Where message pushes go; nil when the row cannot be read as one (never expected).
    public let target: PushTarget?

    public init(secret: String, tokenDead: Bool, target: PushTarget?) {
        self.secret = secret
        self.tokenDead = tokenDead
        self.target = target
    }
}

/// The devices registered for pushes (docs/api.md `/push/register`, table `push_registrations`):
/// every statement on that table is written here.
@LoopActor
public final class PushRegistry: PushRegistrationStore {
    /// What the client puts in its XEP-0357 `<enable>`.
    public struct Binding: Equatable, Sendable {
        public let node: String
        public let secret: String
    }

    private let database: DatabasePool
    private let logger: Logger
    /// Devices one account may register (`MAX_DEVICES_PER_ACCOUNT`).
    private let maximumDevicesPerAccount: Int

    public init(database: DatabasePool, maximumDevicesPerAccount: Int = 10, logger: Logger) {
        self.database = database
        self.maximumDevicesPerAccount = maximumDevicesPerAccount
        self.logger = logger
    }

    /// Registers or updates the device for `jid`. The same device again keeps its node and secret;
    /// a device that moves to another account gets new ones, so the old account's server-side push
    /// registration can never reach the new owner's phone. A token identifies one installation of the
    /// app: any other registration of the same app with this token (an earlier account on the phone,
    /// registered under another device id) is removed, as Matrix pushers are (`append: false`).
    /// An account holds at most `maximumDevicesPerAccount` devices: registering one more removes its
    /// least recently registered one (a re-register counts as registering), whose node then answers
    /// `item-not-found`, so one account cannot grow the table or the push fan-out without end.
    public func register(_ device: PushDevice, for jid: String) async throws(DatabaseError) -> Binding {
        let result = try await database.query("""
            WITH superseded AS (
                DELETE FROM push_registrations
                WHERE device_uuid <> $1 AND app_id = $6 AND (push_token = $4 OR voip_token = $5)
            ), oldest AS (
                DELETE FROM push_registrations WHERE device_uuid IN (
                    SELECT device_uuid FROM push_registrations WHERE jid = $2 AND device_uuid <> $1
                    ORDER BY updated_at DESC, created_at DESC OFFSET $10::integer - 1
                )
            )
            INSERT INTO push_registrations (device_uuid, jid, platform, push_token, voip_token, app_id, environment, node, secret)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (device_uuid) DO UPDATE SET
                node = CASE WHEN push_registrations.jid = EXCLUDED.jid THEN push_registrations.node ELSE EXCLUDED.node END,
                secret = CASE WHEN push_registrations.jid = EXCLUDED.jid THEN push_registrations.secret ELSE EXCLUDED.secret END,
                jid = EXCLUDED.jid, platform = EXCLUDED.platform, push_token = EXCLUDED.push_token,
                voip_token = EXCLUDED.voip_token, app_id = EXCLUDED.app_id, environment = EXCLUDED.environment,
                push_token_dead_at = NULL, voip_token_dead_at = NULL, updated_at = now()
            RETURNING node, secret
            """, [device.uuid, jid, device.platform.rawValue, device.pushToken, device.voipToken, device.appID,
                  device.environment.rawValue, Base32.encode(SecureRandom.bytes(15)), Base64.urlEncoded(SecureRandom.bytes(24)),
                  String(maximumDevicesPerAccount)])
        guard let node = result.value(0, "node"), let secret = result.value(0, "secret") else {
            throw .server(sqlState: "", message: "no row returned")
        }
        return Binding(node: node, secret: secret)
    }

    /// Removes `jid`'s device; another account's device is never touched. Idempotent.
    public func unregister(deviceUUID: String, for jid: String) async throws(DatabaseError) {
        guard let uuid = PushTokenRules.uuid(deviceUUID) else { return }
        _ = try await database.query("DELETE FROM push_registrations WHERE device_uuid = $1 AND jid = $2", [uuid, jid])
    }

    public func registration(forNode node: String) async throws(DatabaseError) -> NodeRegistration? {
        let row = try await database.query("""
            SELECT secret, push_token_dead_at, device_uuid, platform, push_token AS token, app_id, environment
            FROM push_registrations WHERE node = $1
            """, [node])
        guard let secret = row.value(0, "secret") else { return nil }
        return NodeRegistration(secret: secret, tokenDead: row.value(0, "push_token_dead_at") != nil,
                                target: PushTarget(row: 0, of: row, tokenKind: .push))
    }

    public func markDead(_ target: PushTarget, since: Int64?) async {
        let sinceSeconds = since.map { String(Double($0) / 1000) }
        let column = Self.column(target.tokenKind)
        _ = try? await database.query("""
            UPDATE push_registrations SET \(column)_dead_at = now()
            WHERE device_uuid = $1 AND \(column) = $2
              AND ($3::double precision IS NULL OR updated_at <= to_timestamp($3::double precision))
            """, [target.deviceUUID, target.token, sinceSeconds])
    }

    /// Removes every registration of `jid` (account deletion), as one statement of a pipeline.
    public nonisolated static func deleteAll(of jid: String) -> Statement {
        Statement("DELETE FROM push_registrations WHERE jid = $1", [jid])
    }

    // MARK: The operator endpoints

    /// Every device `jid` registered, newest registration first.
    public func devices(of jid: String) async throws(DatabaseError) -> [RegisteredDevice] {
        let result = try await database.query("""
            SELECT \(RegisteredDevice.columns) FROM push_registrations WHERE jid = $1 ORDER BY updated_at DESC
            """, [jid])
        return result.rows.indices.compactMap { RegisteredDevice(row: $0, of: result) }
    }

    /// The device registered under `deviceUUID`, or nil.
    public func device(_ deviceUUID: String) async throws(DatabaseError) -> RegisteredDevice? {
        let result = try await database.query("SELECT \(RegisteredDevice.columns) FROM push_registrations WHERE device_uuid = $1", [deviceUUID])
        return result.rows.isEmpty ? nil : RegisteredDevice(row: 0, of: result)
    }

    // MARK: Call pushes

    /// Which token of each device a query selects: the call token (``PushPlatform/callTokenKind``),
    /// or the regular one (call cancels: never a VoIP push, docs/calls.md).
    public enum TargetToken: Sendable {
        case call, message

        nonisolated func kind(_ platform: PushPlatform) -> PushTarget.TokenKind { self == .call ? platform.callTokenKind : .push }
    }

    /// A `SELECT` of push targets for the account whose JID is the SQL expression `jid` (a parameter
    /// such as `$2`): each device's `token` where it is usable; only the devices the subquery
    /// `devicesIn` yields, when given. Columns as ``targets(in:token:)`` reads them. For callers that
    /// combine it with their own tables in one statement (the call hooks' single round trip).
    public nonisolated static func targetsQuery(jid: String, devicesIn: String? = nil, token: TargetToken) -> String {
        let filter = devicesIn.map { " AND r.device_uuid IN (\($0))" } ?? ""
        let column = "CASE r.platform " + PushPlatform.allCases.map { "WHEN '\($0.rawValue)' THEN r.\(Self.column(token.kind($0)))" }
            .joined(separator: " ") + " END"
        let usable = "CASE r.platform " + PushPlatform.allCases.map { platform in
            let name = Self.column(token.kind(platform))
            return "WHEN '\(platform.rawValue)' THEN r.\(name) IS NOT NULL AND r.\(name)_dead_at IS NULL"
        }.joined(separator: " ") + " ELSE false END"
        return """
            SELECT r.device_uuid, r.platform, r.app_id, r.environment, \(column) AS token
            FROM push_registrations r WHERE r.jid = \(jid) AND \(usable)\(filter)
            """
    }

    /// The targets in the rows of a query built on ``targetsQuery(jid:devicesIn:token:)``.
    public nonisolated static func targets(in result: QueryResult, token: TargetToken) -> [PushTarget] {
        result.rows.indices.compactMap { row in
            guard let platform = result.value(row, "platform").flatMap(PushPlatform.init) else { return nil }
            return PushTarget(row: row, of: result, tokenKind: token.kind(platform))
        }
    }

    private nonisolated static func column(_ kind: PushTarget.TokenKind) -> String { kind == .voip ? "voip_token" : "push_token" }
}
