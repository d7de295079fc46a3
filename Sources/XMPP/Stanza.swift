/// The four IQ types (RFC 6120 §8.2.3): a request (`get`, `set`) gets exactly one answer (`result`, `error`).
public enum IQType: String, Sendable {
    case get, set, result, error

    public var isRequest: Bool { self == .get || self == .set }
}

/// A stanza error (RFC 6120 §8.3): what the sender should do (`type`) and why (`condition`).
public struct StanzaError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum ErrorType: String, Sendable {
        case auth, cancel, `continue`, modify, wait
    }

    /// The defined conditions of RFC 6120 §8.3.3.
    public enum Condition: String, Sendable, CaseIterable {
        case badRequest = "bad-request", conflict, featureNotImplemented = "feature-not-implemented", forbidden, gone
        case internalServerError = "internal-server-error", itemNotFound = "item-not-found", jidMalformed = "jid-malformed"
        case notAcceptable = "not-acceptable", notAllowed = "not-allowed", notAuthorized = "not-authorized"
        case policyViolation = "policy-violation", recipientUnavailable = "recipient-unavailable", redirect
        case registrationRequired = "registration-required", remoteServerNotFound = "remote-server-not-found"
        case remoteServerTimeout = "remote-server-timeout", resourceConstraint = "resource-constraint"
        case serviceUnavailable = "service-unavailable", subscriptionRequired = "subscription-required"
        case undefinedCondition = "undefined-condition", unexpectedRequest = "unexpected-request"
    }

    public let type: ErrorType
    public let condition: Condition

    public init(_ type: ErrorType, _ condition: Condition) {
        self.type = type
        self.condition = condition
    }

    /// What an entity answers a request it has no handler for.
    public static let serviceUnavailable = StanzaError(.cancel, .serviceUnavailable)

    /// "cancel/item-not-found", as logs show it.
    public var description: String { "\(type.rawValue)/\(condition.rawValue)" }
}

extension XMLElement {
    /// The `type` of an IQ; nil when absent or not one of the four.
    public var iqType: IQType? { self[attribute: "type"].flatMap(IQType.init(rawValue:)) }
}

/// Building and reading the IQ stanzas the component exchanges (RFC 6120 §8.2.3, §8.3).
public enum Stanza {
    public static func iq(type: IQType, id: String, from: String, to: String, payload: XMLElement? = nil) -> XMLElement {
        XMLElement("iq", namespace: XMPPNamespace.component,
                   attributes: [("type", type.rawValue), ("id", id), ("from", from), ("to", to)],
                   children: payload.map { [$0] } ?? [])
    }

    /// The `result` answer to a request, from the address it was sent to.
    public static func result(to request: XMLElement, payload: XMLElement? = nil) -> XMLElement {
        iq(type: .result, id: request[attribute: "id"] ?? "", from: request[attribute: "to"] ?? "",
           to: request[attribute: "from"] ?? "", payload: payload)
    }

    /// The `error` answer to a request.
    public static func error(to request: XMLElement, _ error: StanzaError) -> XMLElement {
        var answer = result(to: request)
        answer[attribute: "type"] = IQType.error.rawValue
        answer.children = [XMLElement("error", namespace: XMPPNamespace.component, attributes: [("type", error.type.rawValue)],
                                      children: [XMLElement(error.condition.rawValue, namespace: XMPPNamespace.stanzas)])]
        return answer
    }

    /// The error of an `error` IQ; nil for any other IQ. A missing or unknown type reads as `cancel`,
    /// an unknown condition as `undefined-condition` (RFC 6120 §8.3.2: the condition is required).
    public static func error(of iq: XMLElement) -> StanzaError? {
        guard iq.iqType == .error else { return nil }
        let error = iq.child("error")
        let type = error?[attribute: "type"].flatMap(StanzaError.ErrorType.init(rawValue:)) ?? .cancel
        let condition = error?.children.lazy.filter { $0.namespace == XMPPNamespace.stanzas }
            .compactMap { StanzaError.Condition(rawValue: $0.name) }.first ?? .undefinedCondition
        return StanzaError(type, condition)
    }
}
