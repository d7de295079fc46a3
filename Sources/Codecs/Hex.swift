/// Lowercase hexadecimal, as in HA1 values, the XEP-0114 handshake, APNs ids and JSON escapes.
public enum Hex {
    /// The sixteen digits as UTF-8 bytes, for writers that interleave hex with other text.
    public static let lowercaseDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func lower(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = lowercaseDigits[Int(byte >> 4)]
                out[2 * index + 1] = lowercaseDigits[Int(byte & 0xF)]
            }
            return bytes.count * 2
        }
    }
}
