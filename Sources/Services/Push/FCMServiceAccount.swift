import Codecs
public import Crypto

/// The service-account key file Google issues for FCM HTTP v1 (pretty-printed JSON with `type`,
/// `project_id`, `private_key_id`, `private_key`, `client_email`, `client_id`, `auth_uri`,
/// `token_uri`, …). Switchboard needs four of them; `private_key` is a PKCS#8 RSA key in PEM.
public struct FCMServiceAccount: Sendable {
    public let projectID: String
    public let clientEmail: String
    public let tokenURI: String
    public let key: SigningKey

    /// Why a file is not a usable service account; the description is for the start-up report.
    public enum LoadError: Error, Equatable, CustomStringConvertible {
        case notJSON
        /// `type` is not "service_account" (google-services.json, the app's config, is a common mix-up).
        case notServiceAccount(type: String?)
        case missingFields([String])
        case key(SigningKey.LoadError)

        public var description: String {
            switch self {
            case .notJSON: return "is not JSON"
            case .notServiceAccount(let type):
                return "is not a service-account key (its \"type\" is \(type.map { "\"\($0)\"" } ?? "missing"), not \"service_account\"); google-services.json is the app's configuration, not the server's key"
            case .missingFields(let names): return "has no \(names.map { "\"\($0)\"" }.joined(separator: ", ")) text field"
            case .key(let error): return "\"private_key\" \(error)"
            }
        }
    }

    public init(json: [UInt8]) throws(LoadError) {
        guard let value = try? JSONValue.parse(json) else { throw .notJSON }
        let type = value["type"]?.stringValue
        guard type == "service_account" else { throw .notServiceAccount(type: type) }
        let required = ["project_id", "client_email", "private_key", "token_uri"]
        let missing = required.filter { value[$0]?.stringValue?.isEmpty ?? true }
        guard missing.isEmpty, let project = value["project_id"]?.stringValue, let email = value["client_email"]?.stringValue,
              let pem = value["private_key"]?.stringValue, let tokenURI = value["token_uri"]?.stringValue
        else { throw .missingFields(missing) }
        do {
            key = try SigningKey(pem: pem, algorithm: .rs256)
        } catch {
            throw .key(error)
        }
        projectID = project
        clientEmail = email
        self.tokenURI = tokenURI
    }
}
