import Postgres

/// A row of `push_registrations` as the operator endpoints show it (docs/operations.md).
public struct RegisteredDevice: Sendable {
    public let deviceUUID: String
    public let jid: String
    public let platform: PushPlatform
    public let appID: String
    public let sandbox: Bool
    public let pushToken: String
    public let voipToken: String?
    /// When the provider said the token was dead, seconds since 1970; nil while it is usable.
    public let pushTokenDeadAt: Int64?
    public let voipTokenDeadAt: Int64?
    /// When the device last registered, seconds since 1970.
    public let updatedAt: Int64

    /// The columns ``init(row:of:)`` reads, for a `SELECT` on `push_registrations`.
    static let columns = """
        device_uuid, jid, platform, app_id, environment, push_token, voip_token,
        extract(epoch FROM updated_at)::bigint AS updated_at, extract(epoch FROM push_token_dead_at)::bigint AS push_dead,
        extract(epoch FROM voip_token_dead_at)::bigint AS voip_dead
        """

    init?(row: Int, of result: QueryResult) {
        guard let uuid = result.value(row, "device_uuid"), let jid = result.value(row, "jid"),
              let platform = result.value(row, "platform").flatMap(PushPlatform.init), let appID = result.value(row, "app_id"),
              let token = result.value(row, "push_token"), let updated = result.value(row, "updated_at").flatMap({ Int64($0) })
        else { return nil }
        deviceUUID = uuid
        self.jid = jid
        self.platform = platform
        self.appID = appID
        sandbox = result.value(row, "environment") == "sandbox"
        pushToken = token
        voipToken = result.value(row, "voip_token")
        pushTokenDeadAt = result.value(row, "push_dead").flatMap { Int64($0) }
        voipTokenDeadAt = result.value(row, "voip_dead").flatMap { Int64($0) }
        updatedAt = updated
    }

    /// Where a push goes: a call's to the platform's call token (PushKit on iOS), anything else to
    /// the regular one; nil when that token is missing or dead.
    public func target(call: Bool) -> PushTarget? {
        let kind = call ? platform.callTokenKind : .push
        let (token, deadAt) = kind == .voip ? (voipToken, voipTokenDeadAt) : (pushToken, pushTokenDeadAt)
        guard let token, deadAt == nil else { return nil }
        return PushTarget(deviceUUID: deviceUUID, platform: platform, token: token, tokenKind: kind, appID: appID, sandbox: sandbox)
    }
}
