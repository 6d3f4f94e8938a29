import Postgres
import HTTP
import Crypto

/// Swagger UI's and ReDoc's files (see `docs/ui/README.md`), read once when a worker starts from `DOCS_DIR`.
/// Each is served under a path that carries a hash of its content, so browsers may keep it for a year: a new
/// release of a file gets a new URL.
struct DocsAssets {
    struct Asset {
        let bytes: [UInt8]
        let contentType: String
        /// The first 16 hex digits of the content's SHA-256: the version segment of the asset's URL.
        let version: String
    }

    static let javaScript = "application/javascript; charset=utf-8"
    static let styleSheet = "text/css; charset=utf-8"
    /// Every file the pages use, with the media type it is served as (no `mime.types` involved).
    static let files: [(name: String, contentType: String)] = [
        ("swagger-ui-bundle.js", javaScript), ("swagger-ui.css", styleSheet), ("swagger-init.js", javaScript),
        ("redoc.standalone.js", javaScript),
    ]
    /// What answers the assets may be cached with: their URL changes when their content does.
    static let cacheControl = "public, max-age=31536000, immutable"

    private let assets: [String: Asset]

    /// Reads every file of `files` from `directory`; a missing or empty one is a configuration error.
    init(directory: String) throws {
        var assets: [String: Asset] = [:]
        for file in Self.files {
            guard let bytes = FileReader.readBytes(directory + "/" + file.name), !bytes.isEmpty else {
                throw ConfigurationError(variable: "DOCS_DIR",
                                         problem: "has no readable \(file.name) (or set DOCS_ENABLED=false)")
            }
            assets[file.name] = Asset(bytes: bytes, contentType: file.contentType,
                                      version: String(Hex.encode(try Digest.sha256(bytes)).prefix(16)))
        }
        self.assets = assets
    }

    /// The asset `name` when `version` is its current one; nil otherwise (a 404).
    func asset(named name: String, version: String) -> Asset? {
        guard let asset = assets[name], asset.version == version else { return nil }
        return asset
    }

    /// The asset's path below the mount point: `/docs/assets/VERSION/NAME`.
    func path(_ name: String) -> String {
        "/docs/assets/\(assets[name]?.version ?? "missing")/\(name)"
    }
}
