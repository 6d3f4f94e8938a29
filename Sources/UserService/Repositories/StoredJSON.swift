import HTTP
import Postgres

/// Lists read back from PostgreSQL as JSON text (`to_jsonb(array)::text`, a jsonb column): libpq's text format
/// has no array type this service binds or parses, so arrays travel as JSON both ways.
enum StoredJSON {
    static func parse(_ text: String) throws(PostgresError) -> JSONValue {
        do {
            return try JSONParser.parse(Array(text.utf8))
        } catch {
            throw PostgresError(kind: .decoding)
        }
    }

    /// A JSON array of strings (`to_jsonb(text[])::text`).
    static func strings(_ text: String) throws(PostgresError) -> [String] {
        guard case .array(let items) = try parse(text) else { throw PostgresError(kind: .decoding) }
        return try items.map { item throws(PostgresError) in
            guard case .string(let value) = item else { throw PostgresError(kind: .decoding) }
            return value
        }
    }

    /// A member that is a string, or nil when it is null or absent.
    static func optionalString(_ value: JSONValue?) -> String? {
        guard case .string(let text)? = value else { return nil }
        return text
    }
}
