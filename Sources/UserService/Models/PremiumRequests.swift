import HTTP
/// The body of `POST /api/v1/users/me/upgrade`.

/// Which plan to buy (or extend with): `monthly` or `yearly`.
struct UpgradeRequest: RequestModel {
    static let schemaName = "PremiumUpgrade"
    static let example: JSONValue? = .object([("plan", "monthly")])
    let plan: PremiumPlan

    init(reading body: inout FieldReader) {
        let name = body.required("plan", .oneOf(PremiumPlan.allCases.map(\.rawValue)), placeholder: PremiumPlan.monthly.rawValue)
        plan = PremiumPlan(rawValue: name) ?? .monthly
    }
}
