extension XMLElement {
    /// The element as XML text. A namespace is declared (`xmlns='…'`) only where it differs from the
    /// parent's, and every text and attribute value is escaped, so no value can inject markup.
    public func xml(parentNamespace: String = XMPPNamespace.component) -> String {
        var out = ""
        write(to: &out, parentNamespace: parentNamespace)
        return out
    }

    func write(to out: inout String, parentNamespace: String) {
        out += "<" + name
        if namespace != parentNamespace { out += " xmlns='" + XMLEscaping.attribute(namespace) + "'" }
        for (attribute, value) in attributes { out += " " + attribute + "='" + XMLEscaping.attribute(value) + "'" }
        if children.isEmpty && text.isEmpty {
            out += "/>"
            return
        }
        out += ">"
        out += XMLEscaping.text(text)
        for child in children { child.write(to: &out, parentNamespace: namespace) }
        out += "</" + name + ">"
    }
}

/// Escaping for XML character data and single-quoted attribute values.
public enum XMLEscaping {
    public static func text(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) else { return s }
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    public static func attribute(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// Namespaces of the XMPP core and XEP-0114.
public enum XMPPNamespace {
    public static let component = "jabber:component:accept"
    public static let streams = "http://etherx.jabber.org/streams"
    public static let stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
    public static let streamErrors = "urn:ietf:params:xml:ns:xmpp-streams"
}
