import Dispatch
import Loop
#if canImport(Glibc)
import Glibc
#endif

/// Non-blocking TCP client sockets for the loop.
enum TCPSocket {
    /// Resolves `host` off the loop (getaddrinfo blocks) and calls back on the loop.
    static func resolve(_ host: String, port: UInt16, then done: @escaping ([sockaddr_storage]) -> Void) {
        let callback = LoopBound(done)
        DispatchQueue.global().async {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var found: UnsafeMutablePointer<addrinfo>?
            var addresses: [sockaddr_storage] = []
            if getaddrinfo(host, String(port), &hints, &found) == 0 {
                var entry = found
                while let current = entry {
                    var storage = sockaddr_storage()
                    withUnsafeMutableBytes(of: &storage) {
                        $0.copyMemory(from: UnsafeRawBufferPointer(start: current.pointee.ai_addr, count: Int(current.pointee.ai_addrlen)))
                    }
                    addresses.append(storage)
                    entry = current.pointee.ai_next
                }
                freeaddrinfo(found)
            }
            let result = UnsafeTransfer(addresses)
            EventLoop.queue.async { callback.value(result.value) }
        }
    }

    /// Starts connecting; returns the fd (connection completes when it becomes writable) or nil.
    static func startConnect(to address: sockaddr_storage) -> Int32? {
        let fd = socket(Int32(address.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let length = socklen_t(address.ss_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard rc == 0 || errno == EINPROGRESS else {
            close(fd)
            return nil
        }
        return fd
    }

    /// The outcome of a non-blocking connect, once the socket is writable: 0 or an errno.
    static func connectError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }

    static func describe(_ error: Int32) -> String { String(cString: strerror(error)) }
}
