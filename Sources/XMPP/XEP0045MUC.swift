// XEP-0045: Multi-User Chat — what the admin component does to rooms without joining them:
// create and configure (muc#owner), set and list affiliations (muc#admin), destroy.
// Verified against ejabberd 23.01: docs/xmpp.md.
public enum XEP0045 {
    public static let ownerNamespace = "http://jabber.org/protocol/muc#owner"
    public static let adminNamespace = "http://jabber.org/protocol/muc#admin"

    /// A user's long-lived relation to a room (XEP-0045 §5.2).
    public enum Affiliation: String, Sendable, CaseIterable {
        case owner, admin, member, outcast, none
    }

    /// A muc#owner `set` with the configuration form: sent to a room that does not exist, it creates
    /// it, owned by the sender. Members-only, persistent, hidden, and not moderated (ejabberd 23.01
    /// does not enforce member removal in moderated rooms).
    public static func createRoom(_ room: String, name: String, from: String) -> XMLElement {
        let form = DataForm(type: .submit, fields: [
            DataForm.Field("FORM_TYPE", value: "http://jabber.org/protocol/muc#roomconfig"),
            DataForm.Field("muc#roomconfig_roomname", value: name),
            DataForm.Field("muc#roomconfig_persistentroom", value: "1"),
            DataForm.Field("muc#roomconfig_membersonly", value: "1"),
            DataForm.Field("muc#roomconfig_moderatedroom", value: "0"),
            DataForm.Field("muc#roomconfig_publicroom", value: "0"),
        ])
        return Stanza.iq(type: .set, id: "", from: from, to: room,
                         payload: XMLElement("query", namespace: ownerNamespace, children: [form.element]))
    }

    public static func destroyRoom(_ room: String, from: String) -> XMLElement {
        Stanza.iq(type: .set, id: "", from: from, to: room,
                  payload: XMLElement("query", namespace: ownerNamespace, children: [XMLElement("destroy", namespace: ownerNamespace)]))
    }

    /// Sets `affiliation` for every JID in one request.
    public static func setAffiliation(_ affiliation: Affiliation, of jids: [String], in room: String, from: String) -> XMLElement {
        let items = jids.map { XMLElement("item", namespace: adminNamespace, attributes: [("affiliation", affiliation.rawValue), ("jid", $0)]) }
        return Stanza.iq(type: .set, id: "", from: from, to: room, payload: XMLElement("query", namespace: adminNamespace, children: items))
    }

    public static func listAffiliation(_ affiliation: Affiliation, in room: String, from: String) -> XMLElement {
        Stanza.iq(type: .get, id: "", from: from, to: room, payload: XMLElement("query", namespace: adminNamespace, children: [
            XMLElement("item", namespace: adminNamespace, attributes: [("affiliation", affiliation.rawValue)]),
        ]))
    }

    /// The JIDs of a muc#admin list result.
    public static func jids(in answer: XMLElement) -> [String] {
        answer.child("query", namespace: adminNamespace)?.children("item").compactMap { $0[attribute: "jid"] } ?? []
    }
}
