/// Base64 in the two alphabets Switchboard speaks: standard with padding (TURN passwords) and
/// URL-safe without padding (JWT, RFC 7515 §2). Plain byte loops: this runs on every authenticated
/// request, and Foundation's string-based route cost more than the rest of the request together.
public enum Base64 {
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// Byte → 6-bit value for the URL-safe alphabet; 0xFF for anything else.
    private static let urlValues: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in urlAlphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    public static func standard(_ bytes: [UInt8]) -> String { encode(bytes, alphabet: standardAlphabet, pad: true) as String }

    public static func urlEncoded(_ bytes: [UInt8]) -> String { encode(bytes, alphabet: urlAlphabet, pad: false) as String }

    public static func urlEncodedBytes(_ bytes: [UInt8]) -> [UInt8] { encode(bytes, alphabet: urlAlphabet, pad: false) as [UInt8] }

    private static func encode(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool) -> String {
        String(decoding: encode(bytes, alphabet: alphabet, pad: pad), as: UTF8.self)
    }

    private static func encode(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int(n >> 18)])
            out.append(alphabet[Int(n >> 12 & 63)])
            if rest == 2 { out.append(alphabet[Int(n >> 6 & 63)]) }
            if pad { for _ in rest..<3 { out.append(UInt8(ascii: "=")) } }
        }
        return out
    }

    /// Standard base64 with padding, as stored in ejabberd's SCRAM columns; nil when malformed.
    public static func standardDecoded(_ text: String) -> [UInt8]? {
        var body = Substring(text)
        var padding = 0
        while body.last == "=", padding < 2 { body.removeLast(); padding += 1 }
        guard text.utf8.count % 4 == 0, !body.contains("-"), !body.contains("_") else { return nil }
        let translated = String(body.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        return urlDecoded(Substring(translated))
    }

    /// Strict base64url: only the URL-safe alphabet, no padding, no whitespace, and unused trailing
    /// bits zero (so every byte string has exactly one accepted encoding); nil otherwise.
    public static func urlDecoded(_ text: Substring) -> [UInt8]? { urlDecoded(ArraySlice(text.utf8)) }

    public static func urlDecoded(_ input: ArraySlice<UInt8>) -> [UInt8]? {
        guard input.count % 4 != 1 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for c in input {
            let v = urlValues[Int(c)]
            guard v != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        guard accumulator == 0 else { return nil }
        return out
    }
}
