#if canImport(Glibc)
import Glibc
#endif
import XMPP

/// One XEP-0114 handshake with ejabberd, blocking, for `switchboard check-config --connect`: the same
/// `ComponentSession` state machine the gateway runs, on a plain socket with a deadline. The stream is
/// closed as soon as the handshake is answered, but for that moment ejabberd routes the domain's
/// stanzas to it too (docs/xmpp.md): run it before starting, not against a busy instance's admin domain.
enum ComponentProbe {
    /// nil when ejabberd accepted the handshake, else what went wrong.
    static func handshake(host: String, port: UInt16, domain: String, secret: String, timeoutSeconds: Int = 5) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else { return "cannot resolve \(host)" }
        defer { freeaddrinfo(found) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return "no socket" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            return "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))"
        }
        var session = ComponentSession(domain: domain, secret: secret)
        let parser = XMLStreamParser()
        var actions = session.tcpConnected()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            for action in actions {
                switch action {
                case .send(let text):
                    var bytes = Array(text.utf8)
                    guard send(fd, &bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return "the connection closed while sending" }
                case .becameReady:
                    var close = Array(XEP0114.streamClose.utf8)
                    _ = send(fd, &close, close.count, Int32(MSG_NOSIGNAL))
                    return nil
                case .close(let reason):
                    return reason
                case .deliver, .discarded:
                    break
                }
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { return n == 0 ? "ejabberd closed the connection" : "no answer within \(timeoutSeconds) s" }
            actions = parser.feed(buffer[0..<n]).flatMap { session.received($0) }
        }
    }
}
