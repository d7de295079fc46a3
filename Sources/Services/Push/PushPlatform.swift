/// The platforms a device registers for (docs/api.md `/push/register`), each served by one
/// ``PushProvider``. What differs by platform is said here once: the shape of its tokens, and which
/// token a call push goes to.
public enum PushPlatform: String, Sendable, CaseIterable {
    case ios, android

    /// Which token of a device call pushes use: an iOS device's PushKit token, else the regular one.
    public var callTokenKind: PushTarget.TokenKind { self == .ios ? .voip : .push }

    /// Whether a device of this platform may register a separate PushKit (VoIP) token.
    public var hasVoIPToken: Bool { self == .ios }

    /// The platform's name in messages ("iOS", "Android").
    public var displayName: String { self == .ios ? "iOS" : "Android" }

    /// What a registration's `push_token` must look like, in words for the 400.
    public var tokenRule: String { self == .ios ? "an APNs device token in hex" : "an FCM registration token" }

    /// APNs tokens are hex (32 bytes today; up to 100 allowed for the future); FCM tokens are opaque
    /// URL-safe text.
    public func isToken(_ token: String) -> Bool {
        switch self {
        case .ios:
            return (64...200).contains(token.utf8.count) && token.utf8.count % 2 == 0 && token.utf8.allSatisfy(PushTokenRules.isHex)
        case .android:
            return (20...4096).contains(token.utf8.count) && token.utf8.allSatisfy {
                PushTokenRules.isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ":")
            }
        }
    }

    /// The stored form of a token: APNs tokens in lowercase hex, FCM tokens as given.
    public func normalized(_ token: String) -> String { self == .ios ? token.lowercased() : token }
}
