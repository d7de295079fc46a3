import Codecs
import HTTP2Client

extension HTTP2Client.Response {
    /// The body as JSON; nil when empty or not JSON (providers answer errors in JSON).
    var json: JSONValue? { body.isEmpty ? nil : try? JSONValue.parse(body) }
}
