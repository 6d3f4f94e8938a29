import HTTP
/// The body of `POST /api/v1/users/me/upgrade`.

/// Which plan to buy (or extend with): `monthly` or `yearly`.
struct UpgradeRequest: RequestModel {
    static let schemaName = "PremiumUpgrade"
    static let example: JSONValue? = .object([("plan", "monthly")])
    let plan: PremiumPlan

    init(reading body: inout FieldReader) {
        plan = PremiumPlan(reading: &body)
    }
}

extension PremiumPlan {
    /// A body's required `plan` (here and in an administrator's grant, `GrantPremiumRequest`).
    init(reading body: inout FieldReader) {
        let name = body.required("plan", .oneOf(Self.allCases.map(\.rawValue)), placeholder: Self.monthly.rawValue)
        self = Self(rawValue: name) ?? .monthly
    }
}
