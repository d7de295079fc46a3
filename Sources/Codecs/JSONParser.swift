extension JSONValue {
    public enum ParseError: Error, Equatable, Sendable {
        case invalid(offset: Int)
        case tooDeep
        case duplicateKey(String)
    }

    /// Parses one JSON document (RFC 8259): strict (no trailing commas, comments, NaN, leading zeros,
    /// unescaped control characters or invalid UTF-8), nesting at most `maximumDepth`, no duplicate keys.
    public static func parse(_ bytes: some Collection<UInt8>, maximumDepth: Int = 64) throws(ParseError) -> JSONValue {
        var parser = Parser(bytes: Array(bytes), maximumDepth: maximumDepth)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw .invalid(offset: parser.index) }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        let maximumDepth: Int
        var index = 0

        init(bytes: [UInt8], maximumDepth: Int) {
            self.bytes = bytes
            self.maximumDepth = maximumDepth
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        private var failure: ParseError { .invalid(offset: index) }

        mutating func value(depth: Int) throws(ParseError) -> JSONValue {
            guard depth <= maximumDepth else { throw .tooDeep }
            skipWhitespace()
            guard index < bytes.count else { throw failure }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try number())
            }
        }

        private mutating func literal(_ word: String) throws(ParseError) {
            let expected = Array(word.utf8)
            guard bytes.count - index >= expected.count, bytes[index..<(index + expected.count)].elementsEqual(expected) else { throw failure }
            index += expected.count
        }

        private mutating func expect(_ byte: UInt8) throws(ParseError) {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { throw failure }
            index += 1
        }

        private mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func object(depth: Int) throws(ParseError) -> JSONValue {
            index += 1
            var members: [(String, JSONValue)] = []
            if consume(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure }
                let key = try string()
                if members.contains(where: { $0.0 == key }) { throw .duplicateKey(key) }
                try expect(UInt8(ascii: ":"))
                members.append((key, try value(depth: depth + 1)))
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"))
            return .object(members)
        }

        private mutating func array(depth: Int) throws(ParseError) -> JSONValue {
            index += 1
            var items: [JSONValue] = []
            if consume(UInt8(ascii: "]")) { return .array(items) }
            repeat { items.append(try value(depth: depth + 1)) } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
            return .array(items)
        }

        private mutating func string() throws(ParseError) -> String {
            index += 1  // opening quote
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: out, as: UTF8.self) else { throw .invalid(offset: index) }
                    return s
                case UInt8(ascii: "\\"):
                    try escape(into: &out)
                case 0..<0x20:
                    throw .invalid(offset: index - 1)
                default:
                    out.append(byte)
                }
            }
            throw failure
        }

        private mutating func escape(into out: inout [UInt8]) throws(ParseError) {
            guard index < bytes.count else { throw failure }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {  // a high surrogate must be followed by a low one
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw failure }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw failure }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw failure }
                out += Array(String(Character(unicode)).utf8)
            default:
                throw failure
            }
        }

        private mutating func hex4() throws(ParseError) -> UInt32 {
            guard bytes.count - index >= 4 else { throw failure }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                let digit: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw failure
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        /// RFC 8259 number grammar, then Double's own parser on the validated text.
        private mutating func number() throws(ParseError) -> Double {
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
                return index - from
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let integerStart = index
            let integerDigits = digits()
            guard integerDigits > 0, !(integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0")) else { throw .invalid(offset: start) }
            let isInteger = index >= bytes.count || (bytes[index] != UInt8(ascii: ".") && bytes[index] | 0x20 != UInt8(ascii: "e"))
            if isInteger, integerDigits <= 15 {  // exact in a Double; the common case, parsed without allocating
                var value: Int64 = 0
                for digit in bytes[integerStart..<index] { value = value * 10 + Int64(digit - UInt8(ascii: "0")) }
                return Double(bytes[start] == UInt8(ascii: "-") ? -value : value)
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw failure }
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw failure }
            }
            guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)), value.isFinite else { throw .invalid(offset: start) }
            return value
        }
    }
}
