// XEP-0030: Service Discovery — what the component answers to disco#info.
public enum XEP0030 {
    public static let infoNamespace = "http://jabber.org/protocol/disco#info"

    public struct Identity: Sendable, Equatable {
        public let category: String
        public let type: String
        public let name: String
        public init(category: String, type: String, name: String) {
            self.category = category
            self.type = type
            self.name = name
        }
    }

    /// The disco#info result: the identity and the features (disco#info itself among them).
    public static func infoResult(to request: XMLElement, identity: Identity, features: [String]) -> XMLElement {
        var query = XMLElement("query", namespace: infoNamespace)
        query.children.append(XMLElement("identity", namespace: infoNamespace, attributes: [
            ("category", identity.category), ("type", identity.type), ("name", identity.name),
        ]))
        for feature in features {
            query.children.append(XMLElement("feature", namespace: infoNamespace, attributes: [("var", feature)]))
        }
        return Stanza.result(to: request, payload: query)
    }
}
