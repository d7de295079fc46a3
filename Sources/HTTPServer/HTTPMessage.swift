import CMHD
import CMHDShims
import Loop

public enum HTTPMethod: String, Sendable, CaseIterable {
    case GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS
}

/// A complete request as the router sees it: the body has been read and is within the limit.
///
/// Headers and query arguments are looked up in libmicrohttpd's parsed request on demand rather than
/// copied into dictionaries for every request (they were a visible share of a request's cost). The
/// lookup is valid while the request is being handled, which is the only time a handler holds it.
public struct HTTPRequest: Sendable {
    public let method: HTTPMethod
    public let path: String
    public let body: [UInt8]
    /// Values of `{name}` segments of the matched route.
    public var pathParameters: [String: String] = [:]
    private let fields: Fields

    enum Fields: Sendable {
        /// Built by tests and by code that makes requests itself; header names lowercased.
        case stored(headers: [String: String], query: [String: String], clientAddress: String)
        /// The MHD connection the request arrived on.
        case connection(LoopBound<OpaquePointer>)
    }

    public init(method: HTTPMethod, path: String, headers: [String: String] = [:], query: [String: String] = [:],
                body: [UInt8] = [], clientAddress: String = "127.0.0.1") {
        self.method = method
        self.path = path
        self.body = body
        fields = .stored(headers: Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { $1 }, query: query,
                         clientAddress: clientAddress)
    }

    init(method: HTTPMethod, path: String, connection: OpaquePointer, body: [UInt8]) {
        self.method = method
        self.path = path
        self.body = body
        fields = .connection(LoopBound(connection))
    }

    /// A header's value (names are case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        switch fields {
        case .stored(let headers, _, _): return headers[name.lowercased()]
        case .connection(let connection): return Self.lookup(connection.value, .HEADER_KIND, name)
        }
    }

    /// The address the request came from (the peer of the TCP connection), for rate limits.
    public var clientAddress: String {
        switch fields {
        case .stored(_, _, let address): return address
        case .connection(let connection): return Self.clientAddress(of: connection.value)
        }
    }

    static func clientAddress(of connection: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        guard shim_mhd_client_address(connection, &buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A query argument's value (percent-decoded), or nil.
    public func query(_ name: String) -> String? {
        switch fields {
        case .stored(_, let query, _): return query[name]
        case .connection(let connection): return Self.lookup(connection.value, .GET_ARGUMENT_KIND, name)
        }
    }

    static func lookup(_ connection: OpaquePointer, _ kind: MHD_ValueKind, _ name: String) -> String? {
        MHD_lookup_connection_value(connection, kind, name).map { String(cString: $0) }
    }
}

public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func == (a: HTTPResponse, b: HTTPResponse) -> Bool {
        a.status == b.status && a.body == b.body && a.headers.map { "\($0.0):\($0.1)" } == b.headers.map { "\($0.0):\($0.1)" }
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public static func noContent() -> HTTPResponse { HTTPResponse(status: 204) }
}
