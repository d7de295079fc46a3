extension JSONValue {
    /// Compact UTF-8 JSON. Strings escape `"`, `\` and control characters; everything else is written
    /// as is (no `\/`, no `\u` for non-ASCII). Whole numbers are written without a fraction.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let d): out.append(contentsOf: Self.format(d).utf8)
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 9.007_199_254_740_992e15 { return String(Int64(d)) }
        return d.isFinite ? String(d) : "null"
    }


    private static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Native strings are contiguous UTF-8: scan the buffer, and copy it whole when nothing needs escaping.
        let copied = s.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            guard !buffer.contains(where: needsEscape) else { return false }
            out.append(contentsOf: buffer)
            return true
        } ?? false
        if !copied { for byte in s.utf8 { writeEscaped(byte, to: &out) } }
        out.append(UInt8(ascii: "\""))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private static func writeEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            out.append(UInt8(ascii: "\\"))
            out.append(byte)
        case 0x0A: out.append(contentsOf: #"\n"#.utf8)
        case 0x0D: out.append(contentsOf: #"\r"#.utf8)
        case 0x09: out.append(contentsOf: #"\t"#.utf8)
        case 0..<0x20:
            out.append(contentsOf: #"\u00"#.utf8)
            out.append(Hex.lowercaseDigits[Int(byte >> 4)])
            out.append(Hex.lowercaseDigits[Int(byte & 0xF)])
        default: out.append(byte)
        }
    }
}
