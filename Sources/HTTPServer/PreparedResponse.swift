import CMHD
import Loop

/// A response that never changes (server info, liveness): its body is copied once, and each request
/// gets a light MHD response pointing at that copy, with the headers and the request's own
/// `X-Request-ID` (MHD has no per-connection header, so one response object cannot be shared).
public final class PreparedResponse: @unchecked Sendable {
    public let response: HTTPResponse
    /// The body, for MHD to read without copying; freed with this object, after every server that
    /// could send it has stopped (routers live as long as their servers).
    private let body: UnsafeMutableRawBufferPointer

    public init(_ response: HTTPResponse) {
        self.response = response
        body = .allocate(byteCount: max(1, response.body.count), alignment: 1)
        body.copyBytes(from: response.body)
    }

    deinit { body.deallocate() }

    /// A new MHD response for one request; the caller destroys it once queued.
    func mhdResponse(requestID: String) -> OpaquePointer? {
        guard let mhdResponse = MHD_create_response_from_buffer(response.body.count, body.baseAddress,
                                                                MHD_ResponseMemoryMode.RESPMEM_PERSISTENT) else { return nil }
        for (name, value) in response.headers { MHD_add_response_header(mhdResponse, name, value) }
        MHD_add_response_header(mhdResponse, "X-Request-ID", requestID)
        return mhdResponse
    }

    /// A new MHD response with a copy of the body and every header; the caller destroys it.
    static func makeMHDResponse(_ response: HTTPResponse) -> OpaquePointer? {
        // MUST_COPY: MHD keeps the buffer it is given past this call otherwise, and `bytes` is valid
        // only inside the closure. Header names and values are copied by MHD_add_response_header.
        let mhdResponse = response.body.withUnsafeBytes { bytes in
            MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress),
                                            MHD_ResponseMemoryMode.RESPMEM_MUST_COPY)
        }
        guard let mhdResponse else { return nil }
        for (name, value) in response.headers { MHD_add_response_header(mhdResponse, name, value) }
        return mhdResponse
    }
}
