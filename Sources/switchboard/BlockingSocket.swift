#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection with send and receive deadlines, for the commands that talk to a server once
/// and exit (`check-config --connect`, `push-test`); the gateway itself never blocks.
struct BlockingSocket: ~Copyable {
    let fd: Int32

    /// Connects to `host:port`, or says why not.
    static func connect(host: String, port: UInt16, timeoutSeconds: Int) -> Result<BlockingSocket, ConnectFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else { return .failure(.init("cannot resolve \(host)")) }
        defer { freeaddrinfo(found) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return .failure(.init("no socket")) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(.init("cannot connect to \(host):\(port): \(reason)"))
        }
        return .success(BlockingSocket(fd: fd))
    }

    struct ConnectFailure: Error { let reason: String; init(_ reason: String) { self.reason = reason } }

    /// Sends all of `text`; false when the connection closed first.
    func send(_ text: String) -> Bool {
        var bytes = Array(text.utf8)
        return Glibc.send(fd, &bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count
    }

    /// The next bytes: nil at the end of the stream, on an error or past the receive deadline.
    func receive() -> ArraySlice<UInt8>? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? buffer[0..<n] : nil
    }

    deinit { close(fd) }
}
