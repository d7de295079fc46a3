import XMPP

/// One XEP-0114 handshake with ejabberd, blocking, for `switchboard check-config --connect`: the same
/// `ComponentSession` state machine the gateway runs, on a plain socket with a deadline. The stream is
/// closed as soon as the handshake is answered, but for that moment ejabberd routes the domain's
/// stanzas to it too (docs/xmpp.md): run it before starting, not against a busy instance's admin domain.
enum ComponentProbe {
    /// nil when ejabberd accepted the handshake, else what went wrong.
    static func handshake(host: String, port: UInt16, domain: String, secret: String, timeoutSeconds: Int = 5) -> String? {
        let socket: BlockingSocket
        switch BlockingSocket.connect(host: host, port: port, timeoutSeconds: timeoutSeconds) {
        case .success(let connected): socket = connected
        case .failure(let failure): return failure.reason
        }
        var session = ComponentSession(domain: domain, secret: secret)
        let parser = XMLStreamParser()
        var actions = session.tcpConnected()
        while true {
            for action in actions {
                switch action {
                case .send(let text):
                    guard socket.send(text) else { return "the connection closed while sending" }
                case .becameReady:
                    _ = socket.send(XEP0114.streamClose)
                    return nil
                case .close(let reason):
                    return reason
                case .deliver, .discarded:
                    break
                }
            }
            guard let bytes = socket.receive() else { return "ejabberd closed the connection, or did not answer within \(timeoutSeconds) s" }
            actions = parser.feed(bytes).flatMap { session.received($0) }
        }
    }
}
