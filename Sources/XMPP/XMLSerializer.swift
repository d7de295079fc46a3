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

/// Escaping for XML character data and single-quoted attribute values. Nothing it returns can break
/// the stream: a character XML 1.0 does not allow (C0 controls but tab, newline and carriage return;
/// U+FFFE and U+FFFF) has no escape either, and is written as U+FFFD. ejabberd closes the component
/// stream as not-well-formed on any of them; callers validate input first (docs/api.md), this is the
/// last line.
public enum XMLEscaping {
    public static func text(_ s: String) -> String { escape(s, inAttribute: false) }

    public static func attribute(_ s: String) -> String { escape(s, inAttribute: true) }

    /// Whether XML 1.0's `Char` production allows the scalar (Swift strings hold no surrogates).
    public static func isXMLCharacter(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09, 0x0A, 0x0D, 0x20...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    /// `&`, `<` and `>` always; in attributes also both quotes and the whitespace that attribute-value
    /// normalization would otherwise turn into spaces.
    private static func escape(_ s: String, inAttribute: Bool) -> String {
        func special(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"): return true
            case UInt8(ascii: "'"), UInt8(ascii: "\""), 0x0A, 0x0D, 0x09: return inAttribute
            // Other controls are not XML; 0xEF leads the UTF-8 of U+FFFE and U+FFFF.
            case 0x00...0x1F, 0xEF: return true
            default: return false
            }
        }
        guard s.utf8.contains(where: special) else { return s }
        var out = ""
        for c in s.unicodeScalars {
            guard isXMLCharacter(c) else {
                out.unicodeScalars.append("\u{FFFD}")
                continue
            }
            guard c.isASCII, special(UInt8(c.value)) else {
                out.unicodeScalars.append(c)
                continue
            }
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            default: out += "&#\(c.value);"
            }
        }
        return out
    }
}
