import ArgumentParser
import Codecs
import FoundationEssentials

/// `switchboard push-test <device-id> [--voip]`: asks a running instance (its operator endpoint,
/// docs/operations.md) to push to one device now, and prints the provider's verdict. Reads
/// `ADMIN_TOKEN` and the hooks listener's address from the same environment as `serve`.
struct PushTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push-test",
        abstract: "Send a test push to one device through a running instance and print the provider's verdict; exit 0 when delivered.",
        discussion: "Needs ADMIN_TOKEN (as the instance has it) and HOOKS_HTTP_HOST/HOOKS_HTTP_PORT (default 127.0.0.1:8444).")

    @Argument(help: "The device id the app registered with (POST /api/v1/push/register).")
    var deviceID: String

    @Flag(help: "A VoIP (call) push to the device's call token instead of an alert.")
    var voip = false

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let token = environment["ADMIN_TOKEN"], !token.isEmpty else {
            print("switchboard push-test: ADMIN_TOKEN is not set; set it as the running instance has it")
            throw ExitCode(78)
        }
        let host = environment["HOOKS_HTTP_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        guard let port = UInt16(environment["HOOKS_HTTP_PORT"] ?? "8444") else {
            print("switchboard push-test: HOOKS_HTTP_PORT is not a port")
            throw ExitCode(78)
        }
        let body = #"{"kind":"\#(voip ? "voip" : "alert")"}"#
        let request = "POST /admin/v1/devices/\(Self.percentEncoded(deviceID))/test-push HTTP/1.1\r\nHost: \(host)\r\n"
            + "Authorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n\(body)"
        let answer: (status: Int, body: JSONValue?)
        switch Self.exchange(request, host: host, port: port) {
        case .success(let received): answer = received
        case .failure(let failure):
            print("switchboard push-test: \(failure.reason)")
            throw ExitCode(1)
        }
        guard answer.status == 200, let outcome = answer.body?["outcome"] else {
            let message = answer.body?["error"]?["message"]?.stringValue ?? "no error message"
            print("switchboard push-test: HTTP \(answer.status): \(message)")
            throw ExitCode(answer.status == 401 ? 77 : 1)
        }
        let result = outcome["result"]?.stringValue ?? "?"
        var line = "\(result)"
        if let reason = outcome["reason"]?.stringValue { line += ": \(reason)" }
        if let id = outcome["message_id"]?.stringValue { line += " (message id \(id))" }
        if let attempts = outcome["attempts"]?.int64Value { line += ", \(attempts) attempt\(attempts == 1 ? "" : "s")" }
        print(line)
        if result != "delivered" { throw ExitCode(1) }
    }

    /// Sends `request` and reads the answer to the end (the request asks the server to close).
    static func exchange(_ request: String, host: String, port: UInt16) -> Result<(status: Int, body: JSONValue?), BlockingSocket.ConnectFailure> {
        let socket: BlockingSocket
        switch BlockingSocket.connect(host: host, port: port, timeoutSeconds: 20) {
        case .success(let connected): socket = connected
        case .failure(let failure): return .failure(failure)
        }
        guard socket.send(request) else { return .failure(.init("the connection closed while sending")) }
        var received: [UInt8] = []
        while let bytes = socket.receive(), received.count < 1 << 20 { received += bytes }
        guard let answer = HTTPAnswer(received) else { return .failure(.init("no HTTP answer from \(host):\(port)")) }
        return .success((answer.status, try? JSONValue.parse(answer.body)))
    }

    /// Everything but RFC 3986's unreserved characters, percent-encoded.
    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + Hex.lower([byte])
            }
        }
        return encoded
    }
}

/// The status and body of an HTTP/1.1 answer read whole (`Connection: close`, no chunking).
struct HTTPAnswer {
    let status: Int
    let body: [UInt8]

    init?(_ bytes: [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let statusLine = String(decoding: bytes[..<end].prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else { return nil }
        self.status = status
        body = Array(bytes[(end + 4)...])
    }
}
