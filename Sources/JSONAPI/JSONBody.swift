public import HTTPServer
import FoundationEssentials
import Services

/// Decodes request bodies into the route's type, turning every decoding failure into a 400 that
/// names the field. Unknown fields are ignored (docs/api.md).
public enum JSONBody {
    public static func decode<T: Decodable>(_ type: T.Type, from request: HTTPRequest) -> Result<T, APIError> {
        if let contentType = request.header("content-type"),
           !contentType.lowercased().hasPrefix("application/json") {
            return .failure(.unsupportedMediaType)
        }
        guard !request.body.isEmpty else { return .failure(.invalidRequest("The request body must be a JSON object.")) }
        do {
            return .success(try JSONDecoder().decode(T.self, from: Data(request.body)))
        } catch let error as DecodingError {
            return .failure(.invalidRequest(describe(error)))
        } catch {
            return .failure(.invalidRequest("The request body is not valid JSON."))
        }
    }

    /// docs/api.md: a body field `jid` that names another account than the token's is 403
    /// `forbidden` on every authenticated route (one that is not a string: 400 naming it). Bodies
    /// that are not JSON objects are left to the route's own decoding.
    public static func subjectRefusal(_ request: HTTPRequest, account: String) -> APIError? {
        struct Subject: Decodable { let jid: String? }
        guard !request.body.isEmpty else { return nil }
        do {
            guard let jid = try JSONDecoder().decode(Subject.self, from: Data(request.body)).jid else { return nil }
            return AccountRules.names(jid, account: account) ? nil : .forbidden
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.first?.stringValue == "jid" {
            return .invalidRequest("Field 'jid' must be a string.")
        } catch {
            return nil  // not a JSON object: the route's own decoding answers
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "Field '\(path(context.codingPath + [key]))' is missing."
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return context.codingPath.isEmpty
                ? "The request body must be a JSON object."
                : "Field '\(path(context.codingPath))' must be \(typeName(type))."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "The request body is not valid JSON."
                : "Field '\(path(context.codingPath))' has an invalid value."
        @unknown default:
            return "The request body is not valid JSON."
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.enumerated().map { position, key in
            key.intValue.map { "[\($0)]" } ?? (position == 0 ? key.stringValue : "." + key.stringValue)
        }.joined()
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [Any].Type: return "an array"
        default: return "a \(type)"
        }
    }
}
