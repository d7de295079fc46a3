// XEP-0004: Data Forms — the `jabber:x:data` forms of admin commands (XEP-0133), room configuration
// (XEP-0045) and push publish options and summaries (XEP-0357), built and read in one place.

/// A data form: its type and its fields in order. Read from an element with ``init(_:)``, written
/// with ``element``; a round trip keeps every field, type and value.
public struct DataForm: Equatable, Sendable {
    public static let namespace = "jabber:x:data"

    public enum FormType: String, Sendable { case form, submit, cancel, result }

    public struct Field: Equatable, Sendable {
        /// The `var` attribute.
        public var name: String
        /// The `type` attribute when there is one (`hidden` for FORM_TYPE, …).
        public var type: String?
        public var values: [String]

        public init(_ name: String, type: String? = nil, values: [String]) {
            self.name = name
            self.type = type
            self.values = values
        }

        public init(_ name: String, type: String? = nil, value: String) {
            self.init(name, type: type, values: [value])
        }
    }

    /// Required by XEP-0004, but read leniently: some servers omit it on push summaries.
    public var type: FormType?
    public var fields: [Field]

    public init(type: FormType?, fields: [Field]) {
        self.type = type
        self.fields = fields
    }

    /// The form in `element` (an `<x xmlns='jabber:x:data'>`); nil when it is not one. A missing or
    /// unknown type reads as nil; fields without a `var` (fixed text) are skipped.
    public init?(_ element: XMLElement) {
        guard element.name == "x", element.namespace == Self.namespace else { return nil }
        type = element[attribute: "type"].flatMap(FormType.init(rawValue:))
        fields = element.children("field", namespace: Self.namespace).compactMap { field in
            guard let name = field[attribute: "var"] else { return nil }
            return Field(name, type: field[attribute: "type"],
                         values: field.children("value", namespace: Self.namespace).map(\.text))
        }
    }

    /// The first value of the field `name`.
    public func value(_ name: String) -> String? {
        fields.first { $0.name == name }?.values.first
    }

    /// The hidden `FORM_TYPE` field that names what the form is (XEP-0068).
    public var formType: String? { value("FORM_TYPE") }

    public var element: XMLElement {
        XMLElement("x", namespace: Self.namespace, attributes: type.map { [("type", $0.rawValue)] } ?? [], children: fields.map { field in
            XMLElement("field", namespace: Self.namespace,
                       attributes: [("var", field.name)] + (field.type.map { [("type", $0)] } ?? []),
                       children: field.values.map { XMLElement("value", namespace: Self.namespace, text: $0) })
        })
    }
}

extension XMLElement {
    /// The first data form among the children.
    public var dataForm: DataForm? {
        children.lazy.filter { $0.name == "x" && $0.namespace == DataForm.namespace }.compactMap(DataForm.init).first
    }
}
