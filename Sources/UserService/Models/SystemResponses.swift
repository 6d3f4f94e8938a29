import HTTP
/// The answers of `/`, `/health` and `/db/status`.

struct ServiceInfo: ResponseModel {
    static let schemaName = "ServiceInfo"
    static let example = ServiceInfo()
    /// `GET /` is the benchmark's ceiling: its bytes are written once, not per request.
    private static let bytes = ServiceInfo().jsonBytes
    var body: [UInt8] { Self.bytes }

    func write(to object: inout FieldWriter) {
        object.field("service", ServiceVersion.name)
        object.field("version", ServiceVersion.version)
        object.field("status", "running")
    }
}

struct Health: ResponseModel {
    static let schemaName = "Health"
    static let example = Health()

    func write(to object: inout FieldWriter) {
        object.field("status", "healthy")
        object.field("database", "connected")
        object.field("version", ServiceVersion.version)
    }
}

struct Unhealthy: ResponseModel {
    static let schemaName = "Unhealthy"
    static let example = Unhealthy()

    func write(to object: inout FieldWriter) {
        object.field("detail", "Database unavailable")
        object.field("status", "unhealthy")
        object.field("database", "disconnected")
    }
}

struct DatabaseStatus: ResponseModel {
    static let schemaName = "DatabaseStatus"
    static let example = DatabaseStatus(serverVersion: "15.18", roundTripMilliseconds: 0.1, schemaVersion: 4, pendingMigrations: [])
    let serverVersion: String
    let roundTripMilliseconds: Double
    let schemaVersion: Int?
    /// nil when the migrations folder cannot be read.
    let pendingMigrations: [String]?

    func write(to object: inout FieldWriter) {
        object.field("connected", true)
        object.field("server_version", serverVersion)
        object.field("round_trip_ms", roundTripMilliseconds)
        object.field("schema_version", schemaVersion)
        object.field("pending_migrations", pendingMigrations)
    }
}

/// `/db/status` when the database cannot be reached (503) or its state not read (500).
struct DatabaseStatusUnknown: ResponseModel {
    static let schemaName = "DatabaseStatusUnknown"
    static let example = DatabaseStatusUnknown(detail: "Database unavailable", connected: false)
    let detail: String
    let connected: Bool

    func write(to object: inout FieldWriter) {
        object.field("detail", detail)
        object.field("connected", connected)
    }
}
