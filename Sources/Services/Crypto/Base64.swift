import Foundation

/// Base64 in the two alphabets Switchboard speaks: standard (TURN passwords) and URL-safe without
/// padding (JWT, RFC 7515 §2).
public enum Base64 {
    public static func standard(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    public static func urlEncoded(_ bytes: [UInt8]) -> String {
        var s = Data(bytes).base64EncodedString()
        s = s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while s.hasSuffix("=") { s.removeLast() }
        return s
    }

    /// Strict base64url: only the URL-safe alphabet, no padding, no whitespace; nil otherwise.
    public static func urlDecoded(_ text: Substring) -> [UInt8]? {
        guard text.utf8.allSatisfy(isURLAlphabet), text.utf8.count % 4 != 1 else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        s += String(repeating: "=", count: (4 - s.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: s) else { return nil }
        return [UInt8](data)
    }

    private static func isURLAlphabet(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }
}

/// Lowercase hexadecimal, as in HA1 values and the XEP-0114 handshake.
public enum Hex {
    public static func lower(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
