// XEP-0133: Service Administration — single-step add-user, change-user-password and delete-user,
// sent from the admin component to the XMPP domain (XEP-0050 `execute` with the filled form).
// Verified against ejabberd 23.01: reference ejabberd-23.01.md §4b.
public enum XEP0133 {
    public static let commandsNamespace = "http://jabber.org/protocol/commands"
    public static let dataNamespace = "jabber:x:data"
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
        var form = XMLElement("x", namespace: dataNamespace, attributes: [("type", "submit")])
        form.children.append(field("FORM_TYPE", adminNode, type: "hidden"))
        for (name, value) in command.fields { form.children.append(field(name, value)) }
        let execute = XMLElement("command", namespace: commandsNamespace,
                                 attributes: [("node", command.node), ("action", "execute")], children: [form])
        return Stanza.iq(type: "set", id: "", from: component, to: server, payload: execute)
    }

    public enum Outcome: Equatable, Sendable {
        case completed
        /// add-user for an existing account (`conflict`).
        case alreadyExists
        /// change or delete of an unknown account (`item-not-found`).
        case notFound
        /// Anything else, e.g. ("auth", "forbidden") when the component is not in the `configure` rule.
        case failed(type: String, condition: String)
    }

    /// What the server's answer means.
    public static func outcome(of answer: XMLElement) -> Outcome {
        if let (type, condition) = Stanza.errorCondition(answer) {
            switch condition {
            case "conflict": return .alreadyExists
            case "item-not-found": return .notFound
            default: return .failed(type: type, condition: condition)
            }
        }
        let status = answer.child("command", namespace: commandsNamespace)?[attribute: "status"]
        return answer[attribute: "type"] == "result" && status == "completed"
            ? .completed : .failed(type: "cancel", condition: "unexpected-response")
    }

    private static func field(_ name: String, _ value: String, type: String? = nil) -> XMLElement {
        XMLElement("field", namespace: dataNamespace, attributes: [("var", name)] + (type.map { [("type", $0)] } ?? []),
                   children: [XMLElement("value", namespace: dataNamespace, text: value)])
    }
}
