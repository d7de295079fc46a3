// XEP-0133: Service Administration — single-step add-user, change-user-password and delete-user,
// sent from the admin component to the XMPP domain (XEP-0050 `execute` with the filled form).
// Verified against ejabberd 23.01: docs/xmpp.md.
public enum XEP0133 {
    public static let commandsNamespace = "http://jabber.org/protocol/commands"
    static let adminNode = "http://jabber.org/protocol/admin"

    public enum Command: Equatable, Sendable {
        case addUser(jid: String, password: String)
        case changePassword(jid: String, password: String)
        case deleteUser(jid: String)

        var node: String {
            switch self {
            case .addUser: return XEP0133.adminNode + "#add-user"
            case .changePassword: return XEP0133.adminNode + "#change-user-password"
            case .deleteUser: return XEP0133.adminNode + "#delete-user"
            }
        }

        var fields: [(String, String)] {
            switch self {
            case .addUser(let jid, let password): return [("accountjid", jid), ("password", password), ("password-verify", password)]
            case .changePassword(let jid, let password): return [("accountjid", jid), ("password", password)]
            case .deleteUser(let jid): return [("accountjids", jid)]
            }
        }
    }

    /// The IQ that runs `command` in one step (no sessionid round trip).
    public static func request(_ command: Command, from component: String, to server: String) -> XMLElement {
        let form = DataForm(type: .submit, fields: [DataForm.Field("FORM_TYPE", type: "hidden", value: adminNode)]
                                + command.fields.map { DataForm.Field($0.0, value: $0.1) })
        let execute = XMLElement("command", namespace: commandsNamespace,
                                 attributes: [("node", command.node), ("action", "execute")], children: [form.element])
        return Stanza.iq(type: .set, id: "", from: component, to: server, payload: execute)
    }

    public enum Outcome: Equatable, Sendable {
        case completed
        /// add-user for an existing account (`conflict`).
        case alreadyExists
        /// change or delete of an unknown account (`item-not-found`).
        case notFound
        /// Any other error, e.g. auth/forbidden when the component is not in the `configure` rule.
        case failed(StanzaError)
        /// A `result` that does not say the command completed.
        case unexpectedAnswer
    }

    /// What the server's answer means.
    public static func outcome(of answer: XMLElement) -> Outcome {
        if let error = Stanza.error(of: answer) {
            switch error.condition {
            case .conflict: return .alreadyExists
            case .itemNotFound: return .notFound
            default: return .failed(error)
            }
        }
        let status = answer.child("command", namespace: commandsNamespace)?[attribute: "status"]
        return answer.iqType == .result && status == "completed" ? .completed : .unexpectedAnswer
    }
}
