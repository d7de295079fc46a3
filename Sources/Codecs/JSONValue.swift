/// A JSON document as a value, with its own parser and writer.
///
/// Foundation's JSONEncoder/JSONDecoder cost more than everything else an authenticated request does
/// (measured: bench/RESULTS.md), so the hot paths (tokens, responses, Kamailio hooks) use this instead.
/// Request bodies with many fields still go through Codable for its field-naming errors.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members in order; keys are unique (the parser rejects duplicates, RFC 7519 §4).
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public static func int(_ value: Int) -> JSONValue { .number(Double(value)) }
    public static func int64(_ value: Int64) -> JSONValue { .number(Double(value)) }
    public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }

    /// The number when it is a whole number that fits in Int64 exactly.
    public var int64Value: Int64? {
        guard case .number(let d) = self, d == d.rounded(), abs(d) < 9.007_199_254_740_992e15 else { return nil }
        return Int64(d)
    }
}
