import Crypto
import HTTP
public import Postgres

/// `user-service users export`: every account as one JSON object per line (the schema is in the README's
/// "Import and export of accounts"), with its bcrypt hash, flags, profile and preferences, read in pages of
/// `pageSize` (keyset on the id) inside one REPEATABLE READ READ ONLY transaction, so the file is one snapshot and
/// memory stays constant whatever the number of accounts.
public struct UsersExport {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    /// One line per user, built by PostgreSQL (`json_build_object` keeps the keys in this order). Timestamps in UTC.
    static let page = """
        SELECT u.id, json_build_object(
            'email', u.email, 'username', u.username, 'full_name', u.full_name, 'current_title', u.current_title,
            'location', u.location, 'hashed_password', u.hashed_password, 'is_active', u.is_active,
            'is_verified', u.is_verified, 'is_admin', u.is_admin, 'premium_plan', u.premium_plan,
            'premium_expires_at', u.premium_expires_at, 'created_at', u.created_at,
            'profile', (SELECT json_build_object(
                'headline', p.headline, 'bio', p.bio, 'skills', to_json(p.skills), 'years_of_experience', p.years_of_experience,
                'education', p.education, 'work_history', p.work_history, 'website', p.website, 'linkedin_url', p.linkedin_url,
                'github_url', p.github_url, 'portfolio_url', p.portfolio_url, 'avatar_url', p.avatar_url, 'phone', p.phone,
                'visibility', p.visibility) FROM user_profiles p WHERE p.user_id = u.id),
            'preferences', (SELECT json_build_object(
                'desired_titles', to_json(r.desired_titles), 'preferred_locations', to_json(r.preferred_locations),
                'remote_preference', r.remote_preference, 'employment_types', to_json(r.employment_types),
                'salary_min', r.salary_min, 'salary_max', r.salary_max, 'salary_currency', r.salary_currency,
                'salary_period', r.salary_period, 'industries', to_json(r.industries), 'company_sizes', to_json(r.company_sizes),
                'willing_to_relocate', r.willing_to_relocate, 'available_from', to_char(r.available_from, 'YYYY-MM-DD'),
                'job_alerts', r.job_alerts, 'alert_frequency', r.alert_frequency) FROM user_preferences r WHERE r.user_id = u.id)
        )::text
        FROM users u WHERE u.id > $1 ORDER BY u.id LIMIT $2
        """

    /// Calls `write` with each account's line (without its newline); returns how many accounts it wrote.
    public func run(pageSize: Int = 1000, _ write: (String) throws -> Void) throws -> Int {
        try connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        do {
            try connection.query("SET LOCAL TimeZone = 'UTC'")
            var after = "00000000-0000-0000-0000-000000000000"
            var count = 0
            while true {
                let result = try connection.query(Self.page, [after, pageSize])
                for row in result.rows {
                    try write(try row.requiredString(1))
                    after = try row.requiredString(0)
                }
                count += result.rowCount
                if result.rowCount < pageSize { break }
            }
            try connection.query("COMMIT")
            return count
        } catch {
            if connection.isHealthy { _ = try? connection.query("ROLLBACK") }
            throw error
        }
    }
}

/// `user-service users import`: reads account lines (see `UsersExport`) and inserts the new accounts in batches,
/// each batch one statement (so one transaction): users, profiles, preferences and one `account_imported` event
/// per account. Idempotent: an account whose email and username are already those of one existing account is left
/// as it is ("present"); a line whose email or username belongs to another account is reported and skipped, never
/// merged. Every line is checked here first (JSON, email, username, hash, types); what only the database checks
/// (the profile's and preferences' bounds, timestamps) fails the batch, which is then replayed line by line so the
/// bad line is reported and the good ones still go in. No message ever holds a hash.
public final class UsersImporter {
    public struct Report: Sendable {
        public var lines = 0
        public var imported = 0
        public var present = 0
        public var skipped = 0
        /// Imported with `is_premium: true` and no plan (the FastAPI service's accounts): made premium for `Record.legacyPremium`.
        public var legacyPremium = 0
    }

    /// What an account with `is_premium` and no plan becomes (`Record.isLegacyPremium`), for the command's summary.
    public static let legacyPremiumTerms = "\(Record.legacyPremium.rawValue) premium, ending \(Record.legacyPremium.duration) after the import"

    public private(set) var report = Report()
    private let connection: PostgresConnection
    private let withRoles: Bool
    private let batchSize: Int
    private let batchBytes: Int
    private let problem: (Int, String) -> Void
    private var batch: [(line: Int, record: JSONValue, email: String, username: String)] = []
    /// The lines of `batch` that are `is_premium` without a plan.
    private var legacyPremiumLines: Set<Int> = []
    /// The bytes of the lines in `batch`: what it holds in memory is about as much (and its statement as much again).
    private var pendingBytes = 0
    private var batchEmails: [String: (line: Int, username: String)] = [:]
    private var batchUsernames: [String: Int] = [:]

    /// A batch is written when it holds `batchSize` lines or `batchBytes` bytes of them, whichever comes first: a
    /// thousand lines of up to 1 MiB each would otherwise be a gigabyte in memory. `problem` is called with a line's
    /// number and what is wrong with it (then the line is skipped).
    public init(connection: PostgresConnection, withRoles: Bool, batchSize: Int = 1000, batchBytes: Int = 8 << 20,
                problem: @escaping (Int, String) -> Void) {
        self.connection = connection
        self.withRoles = withRoles
        self.batchSize = batchSize
        self.batchBytes = batchBytes
        self.problem = problem
    }

    /// One line of the file (without its newline), numbered from 1. Blank lines are ignored.
    public func add(line number: Int, _ bytes: ArraySlice<UInt8>) throws {
        report.lines += 1
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { report.lines -= 1; return }
        let record: Record
        do {
            record = try Record(bytes, withRoles: withRoles)
        } catch {
            skip(number, error.message)
            return
        }
        let username = record.username.lowercased()
        if let earlier = batchEmails[record.email] {
            if earlier.username == username { report.present += 1 } else { skip(number, "email repeats line \(earlier.line) with another username") }
            return
        }
        if let earlier = batchUsernames[username] {
            skip(number, "username repeats line \(earlier) with another email")
            return
        }
        batchEmails[record.email] = (number, username)
        batchUsernames[username] = number
        batch.append((number, record.json(line: number), record.email, username))
        if record.isLegacyPremium { legacyPremiumLines.insert(number) }
        pendingBytes += bytes.count
        if batch.count >= batchSize || pendingBytes >= batchBytes { try flush() }
    }

    /// Writes what is pending; call once at the end.
    public func flush() throws {
        defer {
            pendingBytes = 0
            legacyPremiumLines.removeAll(keepingCapacity: true)
            batch.removeAll(keepingCapacity: true)
            batchEmails.removeAll(keepingCapacity: true)
            batchUsernames.removeAll(keepingCapacity: true)
        }
        guard !batch.isEmpty else { return }
        do {
            try apply(batch.map(\.record))
        } catch let error as PostgresError where !error.isUnavailable {
            // Something only the database checks: each line on its own (each its own statement, so transaction).
            for entry in batch {
                do {
                    try apply([entry.record])
                } catch let error as PostgresError where !error.isUnavailable {
                    skip(entry.line, Self.describe(error))
                }
            }
        }
    }

    private func skip(_ line: Int, _ message: String) {
        report.skipped += 1
        problem(line, message)
    }

    private func apply(_ records: [JSONValue]) throws {
        let result = try connection.query(Self.insert, [JSONValue.array(records).text])
        for row in result.rows {
            let line = try row.int(0) ?? 0
            switch try row.requiredString(1) {
            case "imported":
                report.imported += 1
                if legacyPremiumLines.contains(line) { report.legacyPremium += 1 }
            case "present": report.present += 1
            case "email": skip(line, "email belongs to another account (with another username)")
            default: skip(line, "username belongs to another account")
            }
        }
    }

    /// A database error as one line: the constraint's name when there is one (PostgreSQL's detail would echo the
    /// row, hash included), else the first line of the message.
    static func describe(_ error: PostgresError) -> String {
        if error.sqlState == .uniqueViolation { return "email or username belongs to another account" }
        if let constraint = error.constraint { return "refused by the database (\(constraint))" }
        return "refused by the database: " + (error.serverMessage.split(separator: "\n").first.map(String.init) ?? "\(error.kind)")
    }

    /// Classifies every line of the batch against the existing accounts, inserts the new ones with their profiles,
    /// preferences and events, and answers each line's outcome: `imported`, `present`, `email` or `username` (the
    /// one that belongs to another account).
    static let insert = """
        WITH input AS (
            SELECT d, (d ->> 'line')::bigint AS line, d ->> 'email' AS email, d ->> 'username' AS username
            FROM jsonb_array_elements($1::jsonb) AS d
        ), matched AS (
            SELECT i.*, (SELECT u.id FROM users u WHERE lower(u.email) = lower(i.email)) AS by_email,
                   (SELECT u.id FROM users u WHERE lower(u.username) = lower(i.username)) AS by_username
            FROM input i
        ), inserted AS (
            INSERT INTO users (email, username, full_name, current_title, location, hashed_password, is_active, is_verified,
                               is_admin, premium_plan, premium_expires_at, created_at)
            SELECT email, username, d ->> 'full_name', d ->> 'current_title', d ->> 'location', d ->> 'hashed_password',
                   (d ->> 'is_active')::boolean, (d ->> 'is_verified')::boolean, (d ->> 'is_admin')::boolean,
                   d ->> 'premium_plan',
                   coalesce((d ->> 'premium_expires_at')::timestamptz, now() + (d ->> 'premium_for')::interval),
                   coalesce((d ->> 'created_at')::timestamptz, now())
            FROM matched WHERE by_email IS NULL AND by_username IS NULL
            RETURNING id, email
        ), joined AS (
            SELECT ins.id, m.d -> 'profile' AS p, m.d -> 'preferences' AS r FROM inserted ins JOIN matched m ON m.email = ins.email
        ), profiles AS (
            INSERT INTO user_profiles (user_id, headline, bio, skills, years_of_experience, education, work_history, website,
                                       linkedin_url, github_url, portfolio_url, avatar_url, phone, visibility)
            SELECT id, p ->> 'headline', p ->> 'bio', ARRAY(SELECT jsonb_array_elements_text(nullif(p -> 'skills', 'null'))),
                   (p ->> 'years_of_experience')::integer, coalesce(nullif(p -> 'education', 'null'), '[]'),
                   coalesce(nullif(p -> 'work_history', 'null'), '[]'), p ->> 'website', p ->> 'linkedin_url',
                   p ->> 'github_url', p ->> 'portfolio_url', p ->> 'avatar_url', p ->> 'phone',
                   coalesce(p ->> 'visibility', 'private')
            FROM joined WHERE jsonb_typeof(p) = 'object'
        ), preferences AS (
            INSERT INTO user_preferences (user_id, desired_titles, preferred_locations, remote_preference, employment_types,
                                          salary_min, salary_max, salary_currency, salary_period, industries, company_sizes,
                                          willing_to_relocate, available_from, job_alerts, alert_frequency)
            SELECT id, ARRAY(SELECT jsonb_array_elements_text(nullif(r -> 'desired_titles', 'null'))),
                   ARRAY(SELECT jsonb_array_elements_text(nullif(r -> 'preferred_locations', 'null'))),
                   coalesce(r ->> 'remote_preference', 'any'),
                   ARRAY(SELECT jsonb_array_elements_text(nullif(r -> 'employment_types', 'null'))),
                   (r ->> 'salary_min')::bigint, (r ->> 'salary_max')::bigint, r ->> 'salary_currency', r ->> 'salary_period',
                   ARRAY(SELECT jsonb_array_elements_text(nullif(r -> 'industries', 'null'))),
                   ARRAY(SELECT jsonb_array_elements_text(nullif(r -> 'company_sizes', 'null'))),
                   coalesce((r ->> 'willing_to_relocate')::boolean, false), (r ->> 'available_from')::date,
                   coalesce((r ->> 'job_alerts')::boolean, false), coalesce(r ->> 'alert_frequency', 'weekly')
            FROM joined WHERE jsonb_typeof(r) = 'object'
        ), events AS (
            INSERT INTO security_events (user_id, type) SELECT id, 'account_imported' FROM inserted
        )
        SELECT line, CASE WHEN by_email IS NULL AND by_username IS NULL THEN 'imported'
                          WHEN by_email = by_username THEN 'present'
                          WHEN by_email IS NOT NULL THEN 'email'
                          ELSE 'username' END
        FROM matched ORDER BY line
        """

    /// One line, checked and normalised (email lower-cased, flags defaulted).
    struct Record {
        struct Invalid: Error { let message: String }

        let email: String
        let username: String
        let fields: [(String, JSONValue)]
        /// `is_premium: true` without `premium_plan` and `premium_expires_at`, as the FastAPI service wrote its
        /// premium accounts (a flag, no plan, no end): imported as premium on `legacyPremium`'s plan, for one
        /// period of it from the import (an operator moving paying users expects them to stay premium; the next
        /// payment extends it through the upgrade).
        let isLegacyPremium: Bool
        static let legacyPremium = PremiumPlan.yearly

        init(_ bytes: ArraySlice<UInt8>, withRoles: Bool) throws(Invalid) {
            let value: JSONValue
            do { value = try JSONParser.parse(Array(bytes)) } catch { throw Invalid(message: "not valid JSON (\(error.reason) at byte \(error.position))") }
            guard case .object = value else { throw Invalid(message: "not a JSON object") }
            guard case .string(let rawEmail)? = value["email"] else { throw Invalid(message: "email is missing or not a string") }
            let email = rawEmail.trimmingWhitespace().lowercased()
            guard AccountRules.isValidEmail(email) else { throw Invalid(message: "email is not a valid address") }
            guard case .string(let username)? = value["username"], AccountRules.isValidUsername(username) else {
                throw Invalid(message: "username is missing or invalid: \(AccountRules.usernameMessage)")
            }
            guard case .string(let hash)? = value["hashed_password"], Self.isBcrypt(hash) else {
                throw Invalid(message: "hashed_password is missing or not a bcrypt hash ($2a$, $2b$ or $2y$)")
            }
            func text(_ name: String, _ range: ClosedRange<Int>) throws(Invalid) -> JSONValue {
                switch value[name] {
                case nil, .null?: return .null
                case .string(let text)? where range.contains(text.unicodeScalars.count): return .string(text)
                default: throw Invalid(message: "\(name) must be null or a string of \(range.lowerBound) to \(range.upperBound) characters")
                }
            }
            func flag(_ name: String, default fallback: Bool) throws(Invalid) -> JSONValue {
                switch value[name] {
                case nil, .null?: return .bool(fallback)
                case .bool(let flag)?: return .bool(flag)
                default: throw Invalid(message: "\(name) must be true or false")
                }
            }
            func object(_ name: String) throws(Invalid) -> JSONValue {
                switch value[name] {
                case nil, .null?: return .null
                case .object(let members)?: return .object(members)
                default: throw Invalid(message: "\(name) must be null or an object")
                }
            }
            let plan = try text("premium_plan", 1...10)
            let expires = try text("premium_expires_at", 1...64)
            if plan != .null, plan != .string("monthly"), plan != .string("yearly") {
                throw Invalid(message: "premium_plan must be null, \"monthly\" or \"yearly\"")
            }
            guard (plan == .null) == (expires == .null) else {
                throw Invalid(message: "premium_plan and premium_expires_at must be both set or both null")
            }
            // The plan and expiry decide when they are there; the flag only when they are not.
            isLegacyPremium = plan == .null ? try flag("is_premium", default: false) == .bool(true) : false
            self.email = email
            self.username = username
            fields = [
                ("email", .string(email)), ("username", .string(username)), ("full_name", try text("full_name", 0...200)),
                ("current_title", try text("current_title", 1...100)), ("location", try text("location", 1...100)),
                ("hashed_password", .string(hash)), ("is_active", try flag("is_active", default: true)),
                ("is_verified", try flag("is_verified", default: false)),
                ("is_admin", withRoles ? try flag("is_admin", default: false) : .bool(false)),
                ("premium_plan", isLegacyPremium ? .string(Self.legacyPremium.rawValue) : plan), ("premium_expires_at", expires),
                ("premium_for", isLegacyPremium ? .string(Self.legacyPremium.duration) : .null),
                ("created_at", try text("created_at", 1...64)),
                ("profile", try object("profile")), ("preferences", try object("preferences")),
            ]
        }

        func json(line: Int) -> JSONValue { .object([("line", .integer(line))] + fields) }

        /// `$2a$`, `$2b$` or `$2y$`, a two-digit cost from 4 to 31, `$`, then 53 characters of bcrypt's alphabet.
        static func isBcrypt(_ hash: String) -> Bool {
            let bytes = Array(hash.utf8)
            guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
                  [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
                  let cost = Bcrypt.cost(of: hash), (4...Bcrypt.maximumCost).contains(cost), bytes[6] == UInt8(ascii: "$")
            else { return false }
            return bytes[7...].allSatisfy { byte in
                byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/") || (48...57).contains(byte) || (65...90).contains(byte)
                    || (97...122).contains(byte)
            }
        }
    }
}

@available(*, unavailable)
extension UsersExport: Sendable {}

@available(*, unavailable)
extension UsersImporter: Sendable {}
