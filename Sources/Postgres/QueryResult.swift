import CLibPQ

/// Why a database call failed. Callers map `unavailable` and `timedOut` to 503 `database_unavailable`.
public enum DatabaseError: Error, Equatable, Sendable {
    /// No connection is up, or it broke while the statement was in flight.
    case unavailable(String)
    /// The statement ran past its deadline; its connection was reset.
    case timedOut
    /// PostgreSQL answered with an error, e.g. SQLSTATE 23505 for a unique violation.
    case server(sqlState: String, message: String)
}

/// One statement with its parameters, always sent with the extended protocol (`$1`, `$2`, …).
public struct Statement: Sendable {
    public let sql: String
    public let parameters: [String?]

    public init(_ sql: String, _ parameters: [String?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// The rows of a result in text format.
public struct QueryResult: Sendable, Equatable {
    public let columns: [String]
    public let rows: [[String?]]
    /// `PQcmdTuples`: rows inserted, updated or deleted.
    public let affectedRows: Int

    public func value(_ row: Int, _ column: String) -> String? {
        guard let index = columns.firstIndex(of: column), row < rows.count else { return nil }
        return rows[row][index]
    }

    /// Reads a `PGresult` into Swift values, or the server's error.
    static func from(_ result: OpaquePointer) -> Result<QueryResult, DatabaseError> {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            let columnCount = PQnfields(result)
            let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
            let rows = (0..<PQntuples(result)).map { row in
                (0..<columnCount).map { column -> String? in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                }
            }
            let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
            return .success(QueryResult(columns: columns, rows: rows, affectedRows: affected))
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            let message = String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines()
            return .failure(.server(sqlState: state, message: message))
        }
    }
}

extension String {
    /// The text without the newlines C libraries end their messages with.
    public func trimmingTrailingNewlines() -> String {
        var s = self
        while s.last?.isNewline == true { s.removeLast() }
        return s
    }
}
