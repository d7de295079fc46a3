import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

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

    /// Connects once, blocking (for `switchboard check-config --connect`, never on the loop): nil when
    /// PostgreSQL accepted the connection, else libpq's own message. `timeoutSeconds` bounds each
    /// host's connection attempt (libpq's `connect_timeout`, which overrides the string's).
    public static func probe(_ connectionString: String, timeoutSeconds: Int = 5) -> String? {
        let keywords = ["dbname", "connect_timeout"], values = [connectionString, String(timeoutSeconds)]
        let conn: OpaquePointer? = keywords.withCStrings { k in values.withCStrings { v in PQconnectdbParams(k, v, 1) } }
        guard let conn else { return "libpq could not allocate a connection" }
        defer { PQfinish(conn) }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn))
            return String(message.reversed().drop { $0.isWhitespace }.reversed())
        }
        return nil
    }
}

extension Array where Element == String {
    /// A NULL-terminated `const char *const *` for libpq's keyword/value arrays, valid inside `body`.
    fileprivate func withCStrings<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
