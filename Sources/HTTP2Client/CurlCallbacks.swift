import CCurl
import CCurlShims
import Loop
#if canImport(Glibc)
import Glibc
#endif

// libcurl's C callbacks for ``HTTP2Client``: each turns a C call into a call on the client (or on the
// transfer its context points to), on the loop. curl calls them only from inside
// `curl_multi_socket_action`, which the client runs on the loop.

private func client(_ context: UnsafeMutableRawPointer?) -> HTTP2Client {
    Unmanaged<HTTP2Client>.fromOpaque(context!).takeUnretainedValue()
}

let socketCallback: curl_socket_callback = { _, fd, what, context, _ in
    let target = client(context)
    LoopActor.assumeIsolated { target.watch(fd, what: what) }
    return 0
}

let timerCallback: curl_multi_timer_callback = { _, milliseconds, context in
    let target = client(context)
    LoopActor.assumeIsolated { target.schedule(milliseconds: milliseconds) }
    return 0
}

let closeSocketCallback: curl_closesocket_callback = { context, fd in
    let target = client(context)
    LoopActor.assumeIsolated { target.closeSocket(fd) }
    return 0
}

/// curl opened a socket for a transfer's connection: keepalive on, and remember which origin it serves.
let socketOpenedCallback: curl_sockopt_callback = { context, fd, purpose in
    guard let context, purpose == CURLSOCKTYPE_IPCXN else { return CURL_SOCKOPT_OK }
    for option in HTTP2Client.keepalive {
        var value = option.value
        setsockopt(fd, option.level, option.name, &value, socklen_t(MemoryLayout<Int32>.size))
    }
    let transfer = Unmanaged<HTTP2Client.Transfer>.fromOpaque(context).takeUnretainedValue()
    let target = transfer.client, origin = transfer.origin
    LoopActor.assumeIsolated { target.socketOrigins[fd] = origin }
    return CURL_SOCKOPT_OK
}

let bodyCallback: shim_curl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<HTTP2Client.Transfer>.fromOpaque(context).takeUnretainedValue()
    guard transfer.responseBody.count + size * count <= HTTP2Client.maximumResponseBytes else {
        transfer.bodyTooLarge = true
        return 0  // curl stops the transfer: CURLE_WRITE_ERROR
    }
    transfer.responseBody.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

/// Keeps the response headers in ``HTTP2Client/keptHeaders``, compared and trimmed as bytes. (As a
/// Swift String, a line's "\r\n" is one Character, so trimming "\r" and "\n" left it on the value
/// and "Retry-After: 2" never parsed.)
let headerCallback: shim_curl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let line = UnsafeRawBufferPointer(start: data, count: size * count)
    guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
          let name = HTTP2Client.keptHeaders.first(where: { HTTP2Client.isHeaderName(line[..<colon], $0) }) else { return size * count }
    var value = line[(colon + 1)...]
    while let first = value.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { value = value.dropFirst() }
    while let last = value.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\r") || last == UInt8(ascii: "\n") { value = value.dropLast() }
    let transfer = Unmanaged<HTTP2Client.Transfer>.fromOpaque(context).takeUnretainedValue()
    transfer.responseHeaders[name] = String(decoding: value, as: UTF8.self)
    return size * count
}
