import HTTP
/// `GET /openapi.json`, `/docs` (Swagger UI), `/redoc` (ReDoc) and the pages' assets. With `DOCS_ENABLED=false`
/// there are no assets and every one of these answers 404, as an unknown path does.
struct DocsController {
    private let assets: DocsAssets?

    init(_ services: Services) { assets = services.docsAssets }

    /// Built for the request's mount point, never cached for another.
    func openAPI(_ context: RequestContext) throws -> OpenAPIJSON {
        guard assets != nil else { throw APIError.notFound }
        return OpenAPIJSON(body: OpenAPIDocument.json(mountPath: context.request.mountPath))
    }

    func swaggerUI(_ context: RequestContext) throws -> HTMLPage {
        guard let assets else { throw APIError.notFound }
        return HTMLPage(body: DocsPages.swaggerUI(assets: assets, mountPath: context.request.mountPath))
    }

    func redoc(_ context: RequestContext) throws -> HTMLPage {
        guard let assets else { throw APIError.notFound }
        return HTMLPage(body: DocsPages.redoc(assets: assets, mountPath: context.request.mountPath))
    }

    /// `GET /docs/assets/{version}/{name}`: a file of the current version only.
    func asset(_ context: RequestContext) throws -> DocsAssets.Asset {
        guard let asset = assets?.asset(named: context.parameter("name"), version: context.parameter("version")) else {
            throw APIError.notFound
        }
        return asset
    }
}

/// A docs page. Pages name the current assets' versions: revalidated on every visit, so a new release is seen at
/// once; their own policy allows only this service's scripts.
struct HTMLPage: ResponseBody {
    static let contentType = "text/html; charset=utf-8"
    static let bodySchema = Schema.string()
    let body: [UInt8]

    var headers: [(String, String)] {
        [("Content-Type", Self.contentType), ("Content-Security-Policy", DocsPages.contentSecurityPolicy), ("Cache-Control", "no-cache")]
    }
}

extension DocsAssets.Asset: ResponseBody {
    static let contentType = "application/javascript; charset=utf-8"
    static let bodySchema = Schema.string()
    var body: [UInt8] { bytes }
    /// Its own type (a script or a style sheet), cached for a year: the path names the content's hash.
    var headers: [(String, String)] { [("Content-Type", contentType), ("Cache-Control", DocsAssets.cacheControl)] }
}
