import Postgres

/// One device token to push to, with what the provider needs to address it.
public struct PushTarget: Sendable, Equatable {
    /// Which of the device's tokens this is: the regular one, or an iOS device's PushKit token.
    public enum TokenKind: Sendable { case push, voip }

    public let deviceUUID: String
    public let platform: PushPlatform
    public let token: String
    public let tokenKind: TokenKind
    public let appID: String
    public let sandbox: Bool

    public init(deviceUUID: String, platform: PushPlatform, token: String, tokenKind: TokenKind, appID: String, sandbox: Bool) {
        self.deviceUUID = deviceUUID
        self.platform = platform
        self.token = token
        self.tokenKind = tokenKind
        self.appID = appID
        self.sandbox = sandbox
    }

    /// Row `row` of a `push_registrations` query selecting `device_uuid`, `platform`, `token`,
    /// `app_id` and `environment`; nil when a column is missing or invalid.
    init?(row: Int, of result: QueryResult, tokenKind: TokenKind) {
        guard let uuid = result.value(row, "device_uuid"), let platform = result.value(row, "platform").flatMap(PushPlatform.init),
              let token = result.value(row, "token"), let appID = result.value(row, "app_id")
        else { return nil }
        self.init(deviceUUID: uuid, platform: platform, token: token, tokenKind: tokenKind, appID: appID,
                  sandbox: result.value(row, "environment") == "sandbox")
    }
}
