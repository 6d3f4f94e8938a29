internal import CLibPQ

/// Owns one `PGresult` and frees it exactly once.
public final class PostgresResult {
    let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { PQclear(handle) }

    public var rowCount: Int { Int(PQntuples(handle)) }
    /// Rows touched by an INSERT/UPDATE/DELETE (`PQcmdTuples`).
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    public subscript(row: Int) -> PostgresRow { PostgresRow(result: self, row: Int32(row)) }
    public var first: PostgresRow? { rowCount > 0 ? self[0] : nil }
    public var rows: [PostgresRow] { (0..<rowCount).map { self[$0] } }
}

@available(*, unavailable)
extension PostgresResult: Sendable {}

/// One row of a result, read by column index. NULL is `nil`, never `""`.
public struct PostgresRow {
    let result: PostgresResult
    let row: Int32

    public func isNull(_ column: Int) -> Bool { PQgetisnull(result.handle, row, Int32(column)) == 1 }

    public func string(_ column: Int) -> String? {
        guard !isNull(column) else { return nil }
        return String(cString: PQgetvalue(result.handle, row, Int32(column)))
    }

    public func requiredString(_ column: Int) throws(PostgresError) -> String {
        guard let value = string(column) else { throw PostgresError(kind: .decoding) }
        return value
    }

    public func int(_ column: Int) throws(PostgresError) -> Int? {
        guard let text = string(column) else { return nil }
        guard let value = Int(text) else { throw PostgresError(kind: .decoding) }
        return value
    }

    public func bool(_ column: Int) throws(PostgresError) -> Bool? {
        switch string(column) {
        case nil: return nil
        case "t": return true
        case "f": return false
        default: throw PostgresError(kind: .decoding)
        }
    }

    public func double(_ column: Int) throws(PostgresError) -> Double? {
        guard let text = string(column) else { return nil }
        guard let value = Double(text) else { throw PostgresError(kind: .decoding) }
        return value
    }

    public func timestamp(_ column: Int) throws(PostgresError) -> PostgresTimestamp? {
        guard let text = string(column) else { return nil }
        guard let value = PostgresTimestamp(postgresText: text) else { throw PostgresError(kind: .decoding) }
        return value
    }
}
