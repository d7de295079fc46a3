// XEP-0114: Jabber Component Protocol — the stream header and the handshake.
import COpenSSL

public enum XEP0114 {
    /// What a component sends first: the stream header naming its domain.
    public static func streamHeader(domain: String) -> String {
        "<?xml version='1.0'?><stream:stream xmlns='\(XMPPNamespace.component)' xmlns:stream='\(XMPPNamespace.streams)' to='\(XMLEscaping.attribute(domain))'>"
    }

    public static let streamClose = "</stream:stream>"

    /// The handshake digest: lowercase hex SHA-1 of the server's stream id followed by the secret.
    public static func handshakeDigest(streamID: String, secret: String) -> String {
        let input = Array((streamID + secret).utf8)
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        _ = SHA1(input, input.count, &digest)
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    public static func handshake(streamID: String, secret: String) -> String {
        "<handshake>\(handshakeDigest(streamID: streamID, secret: secret))</handshake>"
    }
}
