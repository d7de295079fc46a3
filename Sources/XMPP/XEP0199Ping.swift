// XEP-0199: XMPP Ping — the component pings the server to detect a dead connection (ejabberd sends
// no pings to components, docs/xmpp.md) and answers pings sent to it.
public enum XEP0199 {
    public static let namespace = "urn:xmpp:ping"

    public static func ping(id: String, from: String, to: String) -> XMLElement {
        Stanza.iq(type: .get, id: id, from: from, to: to, payload: XMLElement("ping", namespace: namespace))
    }
}
