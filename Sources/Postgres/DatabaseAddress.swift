import CLibPQ

/// libpq connection strings: parsing (to validate and to log without the password) and building.
public enum DatabaseAddress {
    /// The keyword/value pairs libpq reads from a URI or conninfo string, or nil when libpq rejects it.
    public static func parse(_ connectionString: String) -> [String: String]? {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &error) else {
            if let error { PQfreemem(error) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { result[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return result
    }

    /// A description safe for logs: host, port, user and database, never the password.
    public static func redacted(_ connectionString: String) -> String {
        guard let p = parse(connectionString) else { return "<unparseable connection string>" }
        return "host=\(p["host"] ?? p["hostaddr"] ?? "(default)") port=\(p["port"] ?? "5432") user=\(p["user"] ?? "(default)") dbname=\(p["dbname"] ?? "(default)")"
    }

    /// A conninfo string with every value quoted as libpq requires (backslash and quote escaped).
    public static func conninfo(_ pairs: [(String, String)]) -> String {
        pairs.map { key, value in
            let escaped = value.flatMap { $0 == "\\" || $0 == "'" ? ["\\", $0] : [$0] }.map(String.init).joined()
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
    }
}
