import CMHD
import Loop

/// A response that never changes, turned into one libmicrohttpd response object the first time it is
/// sent and reused for every request after (MHD responses are reference counted and may be queued on
/// many connections at once).
public final class PreparedResponse: @unchecked Sendable {
    public let response: HTTPResponse
    /// Created and used on the loop only; kept for the life of the process.
    private var prepared: OpaquePointer?

    public init(_ response: HTTPResponse) { self.response = response }

    func mhdResponse() -> OpaquePointer? {
        EventLoop.assertOnLoop()
        if prepared == nil { prepared = Self.makeMHDResponse(response) }
        return prepared
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
