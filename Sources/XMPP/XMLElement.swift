/// An XML element of an XMPP stanza, with namespaces resolved: what the stream parser produces and
/// the serializer writes. Text is kept per element (XMPP has no meaningful mixed content).
public struct XMLElement: Equatable, Sendable {
    public var name: String
    /// The resolved namespace URI ("" for none).
    public var namespace: String
    /// Attributes in document order; a prefixed attribute keeps its prefix (`xml:lang`).
    public var attributes: [(name: String, value: String)]
    public var children: [XMLElement]
    public var text: String

    public init(_ name: String, namespace: String, attributes: [(name: String, value: String)] = [],
                children: [XMLElement] = [], text: String = "") {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    public static func == (a: XMLElement, b: XMLElement) -> Bool {
        a.name == b.name && a.namespace == b.namespace && a.text == b.text && a.children == b.children
            && a.attributes.count == b.attributes.count
            && zip(a.attributes, b.attributes).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public subscript(attribute name: String) -> String? {
        get { attributes.first { $0.name == name }?.value }
        set {
            guard let newValue else { return attributes.removeAll { $0.name == name } }
            if let index = attributes.firstIndex(where: { $0.name == name }) {
                attributes[index].value = newValue
            } else {
                attributes.append((name, newValue))
            }
        }
    }

    /// The first child with this name (and namespace, when given).
    public func child(_ name: String, namespace: String? = nil) -> XMLElement? {
        children.first { $0.name == name && (namespace == nil || $0.namespace == namespace) }
    }

    public func children(_ name: String, namespace: String? = nil) -> [XMLElement] {
        children.filter { $0.name == name && (namespace == nil || $0.namespace == namespace) }
    }
}
