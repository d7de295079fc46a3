import Codecs
import Crypto
public import Postgres
public import XMPP
public import Logging
public import Loop

/// Devices registered for pushes (CONTRACTS §1 `/push/register`, table `push_registrations`) and the
/// XEP-0357 app server's answer to a publish for one of their nodes (CONTRACTS §3).
@LoopActor
public final class PushRegistrations {
    public struct Device: Equatable, Sendable {
        public enum Platform: String, Sendable { case ios, android }
        public enum Environment: String, Sendable { case production, sandbox }

        public let uuid: String
        public let platform: Platform
        public let pushToken: String
        public let voipToken: String?
        public let appID: String
        public let environment: Environment

        /// Checks every field; the error names the field and says what it must be.
        public static func validated(uuid: String, platform: String, pushToken: String, voipToken: String?, appID: String,
                                     environment: String?) -> Result<Device, Invalid> {
            guard let uuid = PushTokenRules.uuid(uuid) else { return .failure(.init(field: "device_uuid", rule: "a UUID")) }
            guard let platform = Platform(rawValue: platform) else { return .failure(.init(field: "platform", rule: "\"ios\" or \"android\"")) }
            guard PushTokenRules.isToken(pushToken, for: platform) else {
                return .failure(.init(field: "push_token", rule: platform == .ios ? "an APNs device token in hex" : "an FCM registration token"))
            }
            if let voipToken {
                guard platform == .ios else { return .failure(.init(field: "voip_token", rule: "absent for Android devices")) }
                guard PushTokenRules.isToken(voipToken, for: .ios) else { return .failure(.init(field: "voip_token", rule: "a PushKit token in hex")) }
            }
            guard PushTokenRules.isAppID(appID) else { return .failure(.init(field: "app_id", rule: "a bundle id or package name such as com.example.chat")) }
            guard let environment = Environment(rawValue: environment ?? "production") else {
                return .failure(.init(field: "environment", rule: "\"production\" or \"sandbox\""))
            }
            return .success(Device(uuid: uuid, platform: platform, pushToken: platform == .ios ? pushToken.lowercased() : pushToken,
                                   voipToken: voipToken?.lowercased(), appID: appID, environment: environment))
        }
    }

    public struct Invalid: Error, Equatable, Sendable {
        public let field: String
        public let rule: String
    }

    /// What the client puts in its XEP-0357 `<enable>`.
    public struct Binding: Equatable, Sendable {
        public let node: String
        public let secret: String
    }

    private let database: DatabasePool
    private let logger: Logger

    public init(database: DatabasePool, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Registers or updates the device for `jid`. The same device again keeps its node and secret;
    /// a device that moves to another account gets new ones, so the old account's server-side push
    /// registration can never reach the new owner's phone. A token identifies one installation of the
    /// app: any other registration of the same app with this token (an earlier account on the phone,
    /// registered under another device id) is removed, as Matrix pushers are (`append: false`).
    public func register(_ device: Device, for jid: String) async throws(DatabaseError) -> Binding {
        let result = try await database.query("""
            WITH superseded AS (
                DELETE FROM push_registrations
                WHERE device_uuid <> $1 AND app_id = $6 AND (push_token = $4 OR voip_token = $5)
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
                  device.environment.rawValue, Base32.encode(SecureRandom.bytes(15)), Base64.urlEncoded(SecureRandom.bytes(24))])
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

    /// The message push for `publish`: when ejabberd sent the sender (its `include_sender` option),
    /// the sender's bare JID is the push's `sender` and its conversation (the APNs collapse id); a
    /// group message's sender is the room's occupant JID, so the conversation is the room.
    public nonisolated static func messageKind(for publish: XEP0357.Publish) -> PushKind {
        guard let full = publish.sender, let bare = full.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first, !bare.isEmpty else {
            return .message(sender: nil, conversation: nil)
        }
        return .message(sender: String(bare), conversation: String(bare))
    }

    /// The answer to a publish, decided before any provider is called (CONTRACTS §3), and where to
    /// deliver when accepted.
    public func answer(_ publish: XEP0357.Publish) async -> (XEP0357.Answer, PushDelivery.Target?) {
        let row: QueryResult
        do {
            row = try await database.query("""
                SELECT secret, push_token_dead_at, device_uuid, platform, push_token AS token, app_id, environment
                FROM push_registrations WHERE node = $1
                """, [publish.node])
        } catch {
            return (.tryLater, nil)
        }
        guard let secret = row.value(0, "secret"), row.value(0, "push_token_dead_at") == nil else { return (.unknownNode, nil) }
        guard let offered = publish.secret, ConstantTime.equals(offered, secret) else { return (.forbidden, nil) }
        guard let target = PushDelivery.Target(row: 0, of: row, tokenKind: .push) else { return (.tryLater, nil) }
        logger.info("push publish accepted", metadata: ["node": "\(publish.node.prefix(6))…"])
        return (.accepted, target)
    }
}

/// Shapes of push identifiers, checked so that an obviously wrong value gets a clear 400 instead of a
/// silent failure at the provider.
enum PushTokenRules {
    static func uuid(_ raw: String) -> String? {
        let lower = raw.lowercased()
        let groups = lower.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        guard groups == [8, 4, 4, 4, 12], lower.utf8.allSatisfy({ isHex($0) || $0 == UInt8(ascii: "-") }) else { return nil }
        return lower
    }

    /// APNs tokens are hex (32 bytes today; up to 100 allowed for the future); FCM tokens are opaque
    /// URL-safe text.
    static func isToken(_ token: String, for platform: PushRegistrations.Device.Platform) -> Bool {
        switch platform {
        case .ios:
            return (64...200).contains(token.utf8.count) && token.utf8.count % 2 == 0 && token.utf8.allSatisfy(isHex)
        case .android:
            return (20...4096).contains(token.utf8.count) && token.utf8.allSatisfy {
                isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ":")
            }
        }
    }

    static func isAppID(_ id: String) -> Bool {
        (3...155).contains(id.utf8.count) && id.contains(".") && !id.hasPrefix(".") && !id.hasSuffix(".")
            && id.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A)
    }
}
