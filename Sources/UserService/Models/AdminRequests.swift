import HTTP
/// The queries and bodies of `/api/v1/admin/users`, each read and described by its `init(reading:)`.

/// `GET /api/v1/admin/users`: every filter is optional and they combine; `q` is a case-insensitive substring of the
/// email, username or full name; `created_after` is inclusive, `created_before` exclusive.
struct AdminUsersQuery: QueryModel {
    let active: Bool?
    let verified: Bool?
    let premium: Bool?
    let admin: Bool?
    let createdAfter: TimestampText?
    let createdBefore: TimestampText?
    let text: String?
    let limit: Int
    let offset: Int

    init(reading query: inout QueryReader) {
        active = query.boolean("active")
        verified = query.boolean("verified")
        premium = query.boolean("premium")
        admin = query.boolean("admin")
        createdAfter = query.timestamp("created_after")
        createdBefore = query.timestamp("created_before")
        text = query.string("q", maxLength: 254).map { $0.trimmingWhitespace() }.flatMap { $0.isEmpty ? nil : $0 }
        limit = query.integer("limit", default: 20, range: 1...100)
        offset = query.integer("offset", default: 0, range: 0...1_000_000)
    }
}

extension AdminUsersQuery {
    /// `user-service users list [--admins] [--limit N]`: every account or the administrators, from the first.
    init(administratorsOnly: Bool, limit: Int) {
        active = nil
        verified = nil
        premium = nil
        admin = administratorsOnly ? true : nil
        createdAfter = nil
        createdBefore = nil
        text = nil
        self.limit = limit
        offset = 0
    }
}

/// `PUT /api/v1/admin/users/{user_id}/premium`: a plan, and when it ends — `duration_days` from now, or
/// `expires_at` (a date or date-time in the future), or neither: the plan's own period (a month or a year) from
/// now. Replaces any current subscription.
struct GrantPremiumRequest: RequestModel {
    static let schemaName = "AdminPremiumGrant"
    static let example: JSONValue? = .object([("plan", "yearly"), ("duration_days", 30)])

    enum End: Equatable {
        case planPeriod
        case days(Int)
        case at(TimestampText)
    }

    let plan: PremiumPlan
    let end: End

    init(reading body: inout FieldReader) {
        plan = PremiumPlan(reading: &body)
        let days = body.optional("duration_days", .integer(1...3660))
        let until = body.optional("expires_at", FieldRule<String>.string(maxLength: 40, format: "date-time").checked { text, location, issues in
            guard let timestamp = TimestampText(text) else {
                issues.append(ValidationIssue(location: location, message: "Input should be a valid datetime or date",
                                              type: "datetime_from_date_parsing"))
                return false
            }
            guard timestamp.unixSeconds > Clock.unixSeconds() else {
                issues.append(ValidationIssue(location: location, message: "Date should be in the future", type: "datetime_future"))
                return false
            }
            return true
        })
        if body.wasRead("duration_days"), body.wasRead("expires_at") {
            body.fail("expires_at", "Value error, give duration_days or expires_at, not both")
        }
        if let days {
            end = .days(days)
        } else if let until, let timestamp = TimestampText(until) {
            end = .at(timestamp)
        } else {
            end = .planPeriod
        }
    }
}
