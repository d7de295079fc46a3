/// An XMPP address (RFC 7622): `localpart@domainpart/resourcepart`, split in one place by the RFC's
/// rule (the resource starts at the first "/", the localpart ends at the first "@" before it).
///
/// No stringprep happens here: the parts are kept as written. Callers that compare a part prepare it
/// first (usernames through `AccountRules`, domains lowercased), because the preparation rules and
/// their input bounds belong to what the part means (docs/api.md "Input is bounded").
public struct JID: Hashable, Sendable, CustomStringConvertible {
    public let localpart: String?
    public let domain: String
    public let resource: String?

    public init(localpart: String?, domain: String, resource: String? = nil) {
        self.localpart = localpart
        self.domain = domain
        self.resource = resource
    }

    /// Parses `text`; nil when a part that is present is empty (`@example.com`, `alice@`,
    /// `example.com/`) or there is no domain at all.
    public init?(_ text: String) {
        var rest = Substring(text)
        var resource: String?
        if let slash = rest.firstIndex(of: "/") {
            resource = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
            guard resource?.isEmpty == false else { return nil }
        }
        var localpart: String?
        if let at = rest.firstIndex(of: "@") {
            localpart = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            guard localpart?.isEmpty == false else { return nil }
        }
        guard !rest.isEmpty else { return nil }
        self.init(localpart: localpart, domain: String(rest), resource: resource)
    }

    /// The address without its resource.
    public var bare: JID { JID(localpart: localpart, domain: domain) }

    public var isBare: Bool { resource == nil }

    public var description: String {
        var text = localpart.map { $0 + "@" } ?? ""
        text += domain
        if let resource { text += "/" + resource }
        return text
    }
}
