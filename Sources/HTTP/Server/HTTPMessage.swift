import Foundation

public enum HTTPMethod: String, Sendable, CaseIterable {
    case GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS
}

/// A complete request as the router sees it: the body has been read and is within the limit.
public struct HTTPRequest: Sendable {
    public let method: HTTPMethod
    public let path: String
    /// Header names are lowercased.
    public let headers: [String: String]
    public let query: [String: String]
    public let body: [UInt8]
    /// Values of `{name}` segments of the matched route.
    public var pathParameters: [String: String] = [:]

    public init(method: HTTPMethod, path: String, headers: [String: String] = [:], query: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.headers = headers
        self.query = query
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
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

    /// A JSON body with snake_case keys as the types declare them.
    public static func json(_ value: some Encodable, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(try! JSONEncoder.api.encode(value)))
    }
}

extension JSONEncoder {
    /// The encoder of every API response: stable key order, slashes not escaped.
    static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
