import HTTP
import Postgres

/// The SQL of the directory (`Migrations/0012_directory_search.sql` explains the table and its indexes).
///
/// A search reads `directory_entries` (listed users only: active, profile visibility not private) through its
/// indexes, keeps at most `cap` matches, counts and ranks those, and joins the page's rows to users, profiles and
/// preferences by primary key. A lookup by id reads one user by primary key with the same rules. Both take whether
/// the caller is premium, which decides whether `premium` profiles are seen (always, through these routes).
struct DirectoryRepository {
    /// The most matches a search counts, ranks and lists: `total` is exact up to it and equal to it beyond.
    static let cap = 1000

    let database: Database

    static let byID = PreparedStatement("directory_user_by_id", """
        SELECT \(PublicUser.columns)
        FROM users u JOIN user_profiles p ON p.user_id = u.id LEFT JOIN user_preferences r ON r.user_id = u.id
        WHERE u.id = $1 AND u.is_active AND (p.visibility = 'public' OR (p.visibility = 'premium' AND $2::boolean))
        """)

    /// The user's public view, or nil when there is no such user or the caller may not see them (inactive, private
    /// profile, or no profile saved: the default visibility is private) — the same nil, so a 404 tells nothing.
    func find(userID: String, callerIsPremium: Bool) throws -> PublicUser? {
        try database.withConnection(retry: true) { connection in
            try connection.query(Self.byID, [userID, callerIsPremium]).first.map(PublicUser.init)
        }
    }

    /// For the search's transaction only: the directory's indexes, never a sequential scan. For a word most entries
    /// hold, a sequential scan that stops at the cap-th match is what the planner would pick; it would read the whole
    /// table for a word it thought common and is not, and the issue asks for no sequential scan at all.
    static let indexesOnly = PreparedStatement("directory_indexes_only", "SET LOCAL enable_seqscan = off")

    /// One page of entries and the (capped) total.
    func search(_ query: DirectorySearchQuery, callerIsPremium: Bool) throws -> (entries: [DirectoryEntry], total: Int) {
        let statement = DirectorySearchStatement(query, callerIsPremium: callerIsPremium)
        return try database.transaction { connection in
            try connection.query(Self.indexesOnly)
            let rows = try connection.query(statement.sql, statement.parameters).rows
            var total = 0
            var items: [DirectoryEntry] = []
            for row in rows {
                total = try row.int(0) ?? 0
                if !row.isNull(1) { items.append(try DirectoryEntry(row, offset: 1)) }
            }
            return (items, total)
        }
    }

    /// The plan PostgreSQL chooses for `query`'s statement (EXPLAIN, not run).
    func plan(_ query: DirectorySearchQuery, callerIsPremium: Bool) throws -> DirectoryPlanResponse {
        let statement = DirectorySearchStatement(query, callerIsPremium: callerIsPremium)
        return try database.transaction { connection in
            try connection.query(Self.indexesOnly)
            let lines = try connection.query("EXPLAIN " + statement.sql, statement.parameters).rows.map { try $0.requiredString(0) }
            return DirectoryPlanResponse(shape: statement.shape, plan: lines)
        }
    }
}

/// One search's statement: fixed SQL fragments chosen by which filters were sent (so each combination gets a plan
/// of its own, built for the values sent: an unnamed statement), every value a parameter.
struct DirectorySearchStatement {
    private(set) var sql = ""
    private(set) var parameters: [(any PostgresBindable)?] = []
    /// Which filters were sent, e.g. `q+skills`; `all` for none.
    private(set) var shape = ""

    init(_ query: DirectorySearchQuery, callerIsPremium: Bool) {
        var conditions = ["(d.visibility = 'public' OR \(bind(callerIsPremium))::boolean)"]
        var sent: [String] = []
        var rank = "0::real"
        if let q = query.q {
            let words = bind(q)
            conditions.append("d.document @@ directory_tsquery(\(words), '')")
            rank = "ts_rank(d.document, directory_tsquery(\(words), ''))"
            sent.append("q")
        }
        if let location = query.location {
            conditions.append("d.document @@ directory_tsquery(\(bind(location)), 'D')")
            sent.append("location")
        }
        if !query.skills.isEmpty {
            conditions.append("d.skills @> directory_skills(\(bind(JSONValue.array(query.skills.map(JSONValue.string)).text))::jsonb)")
            sent.append("skills")
        }
        if let remote = query.remote {
            conditions.append("d.remote_preference IN (\(bind(remote)), 'any')")
            sent.append("remote")
        }
        if let years = query.minExperience {
            conditions.append("d.years_of_experience >= \(bind(years))")
            sent.append("min_experience")
        }
        shape = sent.isEmpty ? "all" : sent.joined(separator: "+")
        // With words: the first `cap` matches the index finds, ranked. Without: the first `cap` in name order.
        let order = query.q == nil ? "ORDER BY d.sort_name, d.user_id " : ""
        let limit = bind(query.limit)
        let offset = bind(query.offset)
        sql = """
            WITH matches AS MATERIALIZED (
                SELECT d.user_id, d.sort_name, \(rank) AS rank FROM directory_entries d
                WHERE \(conditions.joined(separator: " AND "))
                \(order)LIMIT \(DirectoryRepository.cap)),
            page AS (SELECT user_id, sort_name, rank FROM matches ORDER BY rank DESC, sort_name, user_id LIMIT \(limit) OFFSET \(offset))
            SELECT t.total, \(DirectoryEntry.columns)
            FROM (SELECT count(*) AS total FROM matches) t
            LEFT JOIN (page JOIN users u ON u.id = page.user_id JOIN user_profiles p ON p.user_id = page.user_id
                       LEFT JOIN user_preferences r ON r.user_id = page.user_id) ON true
            ORDER BY page.rank DESC, page.sort_name, page.user_id
            """
    }

    private mutating func bind(_ value: any PostgresBindable) -> String {
        parameters.append(value)
        return "$\(parameters.count)"
    }
}
