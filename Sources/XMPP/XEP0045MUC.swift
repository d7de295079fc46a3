// XEP-0045: Multi-User Chat — what the admin component does to rooms without joining them:
// create and configure (muc#owner), set and list affiliations (muc#admin), destroy.
// Verified against ejabberd 23.01: reference ejabberd-23.01.md §4d.
public enum XEP0045 {
    public static let ownerNamespace = "http://jabber.org/protocol/muc#owner"
    public static let adminNamespace = "http://jabber.org/protocol/muc#admin"

    /// A muc#owner `set` with the configuration form: sent to a room that does not exist, it creates
    /// it, owned by the sender. Members-only, persistent, hidden, and not moderated (ejabberd 23.01
    /// does not enforce member removal in moderated rooms).
    public static func createRoom(_ room: String, name: String, from: String) -> XMLElement {
        var form = XMLElement("x", namespace: XEP0133.dataNamespace, attributes: [("type", "submit")])
        let fields: [(String, String)] = [
            ("FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig"),
            ("muc#roomconfig_roomname", name),
            ("muc#roomconfig_persistentroom", "1"),
            ("muc#roomconfig_membersonly", "1"),
            ("muc#roomconfig_moderatedroom", "0"),
            ("muc#roomconfig_publicroom", "0"),
        ]
        for (name, value) in fields {
            form.children.append(XMLElement("field", namespace: XEP0133.dataNamespace, attributes: [("var", name)],
                                            children: [XMLElement("value", namespace: XEP0133.dataNamespace, text: value)]))
        }
        return Stanza.iq(type: "set", id: "", from: from, to: room,
                         payload: XMLElement("query", namespace: ownerNamespace, children: [form]))
    }

    public static func destroyRoom(_ room: String, from: String) -> XMLElement {
        Stanza.iq(type: "set", id: "", from: from, to: room,
                  payload: XMLElement("query", namespace: ownerNamespace, children: [XMLElement("destroy", namespace: ownerNamespace)]))
    }

    /// Sets `affiliation` (owner, member or none) for every JID in one request.
    public static func setAffiliation(_ affiliation: String, of jids: [String], in room: String, from: String) -> XMLElement {
        let items = jids.map { XMLElement("item", namespace: adminNamespace, attributes: [("affiliation", affiliation), ("jid", $0)]) }
        return Stanza.iq(type: "set", id: "", from: from, to: room, payload: XMLElement("query", namespace: adminNamespace, children: items))
    }

    public static func listAffiliation(_ affiliation: String, in room: String, from: String) -> XMLElement {
        Stanza.iq(type: "get", id: "", from: from, to: room, payload: XMLElement("query", namespace: adminNamespace, children: [
            XMLElement("item", namespace: adminNamespace, attributes: [("affiliation", affiliation)]),
        ]))
    }

    /// The JIDs of a muc#admin list result.
    public static func jids(in answer: XMLElement) -> [String] {
        answer.child("query", namespace: adminNamespace)?.children("item").compactMap { $0[attribute: "jid"] } ?? []
    }
}
