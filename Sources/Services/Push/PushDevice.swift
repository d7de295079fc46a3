/// A device as `/push/register` describes it (docs/api.md), every field checked.
public struct PushDevice: Equatable, Sendable {
    public enum Environment: String, Sendable { case production, sandbox }

    /// Why a field is not acceptable: the field's name and what it must be, for the 400.
    public struct Invalid: Error, Equatable, Sendable {
        public let field: String
        public let rule: String
    }

    public let uuid: String
    public let platform: PushPlatform
    public let pushToken: String
    public let voipToken: String?
    public let appID: String
    public let environment: Environment

    /// Checks every field; the error names the field and says what it must be. `allowedAppIDs`
    /// (`APP_IDS`) keeps a client from pointing this server's pushes at another app of the same
    /// Apple team or Firebase project; nil allows any.
    public static func validated(uuid: String, platform: String, pushToken: String, voipToken: String?, appID: String,
                                 environment: String?, allowedAppIDs: Set<String>? = nil) -> Result<PushDevice, Invalid> {
        guard let uuid = PushTokenRules.uuid(uuid) else { return .failure(.init(field: "device_uuid", rule: "a UUID")) }
        guard let platform = PushPlatform(rawValue: platform) else { return .failure(.init(field: "platform", rule: "\"ios\" or \"android\"")) }
        guard platform.isToken(pushToken) else { return .failure(.init(field: "push_token", rule: platform.tokenRule)) }
        if let voipToken {
            guard platform.hasVoIPToken else { return .failure(.init(field: "voip_token", rule: "absent for \(platform.displayName) devices")) }
            guard platform.isToken(voipToken) else { return .failure(.init(field: "voip_token", rule: "a PushKit token in hex")) }
        }
        guard isAppID(appID) else { return .failure(.init(field: "app_id", rule: "a bundle id or package name such as com.example.chat")) }
        if let allowedAppIDs, !allowedAppIDs.contains(appID) {
            return .failure(.init(field: "app_id", rule: "one of the apps this server pushes to"))
        }
        guard let environment = Environment(rawValue: environment ?? "production") else {
            return .failure(.init(field: "environment", rule: "\"production\" or \"sandbox\""))
        }
        return .success(PushDevice(uuid: uuid, platform: platform, pushToken: platform.normalized(pushToken),
                                   voipToken: voipToken.map(platform.normalized), appID: appID, environment: environment))
    }

    /// A bundle id or package name: dotted, 3 to 155 bytes of letters, digits, `.`, `-`, `_`.
    public static func isAppID(_ id: String) -> Bool { PushTokenRules.isAppID(id) }
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

    static func isAppID(_ id: String) -> Bool {
        (3...155).contains(id.utf8.count) && id.contains(".") && !id.hasPrefix(".") && !id.hasSuffix(".")
            && id.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
    }

    static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A)
    }
}
