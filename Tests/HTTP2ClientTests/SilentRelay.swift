import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay on 127.0.0.1 in front of a real server, for the HTTP/2 client's tests. ``silence()``
/// makes every connection open at that moment swallow all bytes in both directions without closing
/// (a peer that stopped answering, which TCP does not notice); connections accepted later relay as
/// usual. Blocking sockets, a thread per direction; test use only.
final class SilentRelay: @unchecked Sendable {
    let port: Int
    private let target: Int
    private let listener: Int32
    private let lock = NSLock()
    private var silencedUpTo = 0
    private var accepted = 0
    /// Connections whose client side ended (read EOF): the client shut them down or closed them.
    private(set) var endedByClient = 0

    init?(target: Int) {
        self.target = target
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard bound == 0, listen(listener, 16) == 0, withUnsafeMutablePointer(to: &address, {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }) == 0 else {
            port = 0
            return nil
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptForever() }
    }

    func silence() { lock.withLock { silencedUpTo = accepted } }

    var connectionsEndedByClient: Int { lock.withLock { endedByClient } }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptForever() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let number = lock.withLock { accepted += 1; return accepted }
            Thread.detachNewThread { [self] in pump(from: client, to: server, number: number, fromClient: true) }
            Thread.detachNewThread { [self] in pump(from: server, to: client, number: number, fromClient: false) }
        }
    }

    private func pump(from source: Int32, to destination: Int32, number: Int, fromClient: Bool) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                if fromClient { lock.withLock { endedByClient += 1 } }
                shutdown(destination, Int32(SHUT_WR))
                return
            }
            if lock.withLock({ number <= silencedUpTo }) { continue }
            _ = buffer.withUnsafeBytes { send(destination, $0.baseAddress, count, Int32(MSG_NOSIGNAL)) }
        }
    }
}
