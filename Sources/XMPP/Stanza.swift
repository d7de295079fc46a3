/// Building and reading the IQ stanzas the component exchanges (RFC 6120 §8.2.3, §8.3).
public enum Stanza {
    public static func iq(type: String, id: String, from: String, to: String, payload: XMLElement? = nil) -> XMLElement {
        XMLElement("iq", namespace: XMPPNamespace.component,
                   attributes: [("type", type), ("id", id), ("from", from), ("to", to)],
                   children: payload.map { [$0] } ?? [])
    }

    /// The `result` answer to a request, from the address it was sent to.
    public static func result(to request: XMLElement, payload: XMLElement? = nil) -> XMLElement {
        iq(type: "result", id: request[attribute: "id"] ?? "", from: request[attribute: "to"] ?? "",
           to: request[attribute: "from"] ?? "", payload: payload)
    }

    /// An error answer (`type` is cancel, auth, wait, modify or continue; `condition` a stanza error).
    public static func error(to request: XMLElement, type: String, condition: String) -> XMLElement {
        var answer = result(to: request)
        answer[attribute: "type"] = "error"
        answer.children = [XMLElement("error", namespace: XMPPNamespace.component, attributes: [("type", type)],
                                      children: [XMLElement(condition, namespace: XMPPNamespace.stanzas)])]
        return answer
    }

    /// The error condition and type of an `error` IQ, e.g. ("cancel", "item-not-found").
    public static func errorCondition(_ iq: XMLElement) -> (type: String, condition: String)? {
        guard iq[attribute: "type"] == "error", let error = iq.child("error") else { return nil }
        return (error[attribute: "type"] ?? "", error.children.first { $0.namespace == XMPPNamespace.stanzas }?.name ?? "")
    }
}
