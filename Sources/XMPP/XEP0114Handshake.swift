// XEP-0114: Jabber Component Protocol — the stream header and the handshake.
import Codecs
import Crypto

public enum XEP0114 {
    /// What a component sends first: the stream header naming its domain.
    public static func streamHeader(domain: String) -> String {
        "<?xml version='1.0'?><stream:stream xmlns='\(XMPPNamespace.component)' xmlns:stream='\(XMPPNamespace.streams)' to='\(XMLEscaping.attribute(domain))'>"
    }

    public static let streamClose = "</stream:stream>"

    /// The handshake digest: lowercase hex SHA-1 of the server's stream id followed by the secret.
    public static func handshakeDigest(streamID: String, secret: String) -> String {
        Hex.lower(Digest.sha1(Array((streamID + secret).utf8)))
    }

    public static func handshake(streamID: String, secret: String) -> String {
        "<handshake>\(handshakeDigest(streamID: streamID, secret: secret))</handshake>"
    }
}
