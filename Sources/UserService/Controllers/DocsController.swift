/// `GET /openapi.json`, `/docs` (Swagger UI), `/redoc` (ReDoc) and the pages' assets. With `DOCS_ENABLED=false`
/// there are no assets and every one of these answers 404, as an unknown path does.
struct DocsController {
    private let assets: DocsAssets?

    init(_ services: Services) { assets = services.docsAssets }

    func openAPI(_ context: RequestContext) throws -> HTTPResponse {
        guard assets != nil else { throw APIError.notFound }
        return HTTPResponse(status: .ok, headers: [("Content-Type", "application/json")],
                            body: OpenAPIDocument.json(mountPath: context.request.mountPath))
    }

    func swaggerUI(_ context: RequestContext) throws -> HTTPResponse {
        guard let assets else { throw APIError.notFound }
        return page(DocsPages.swaggerUI(assets: assets, mountPath: context.request.mountPath))
    }

    func redoc(_ context: RequestContext) throws -> HTTPResponse {
        guard let assets else { throw APIError.notFound }
        return page(DocsPages.redoc(assets: assets, mountPath: context.request.mountPath))
    }

    /// `GET /docs/assets/{version}/{name}`: a file of the current version only.
    func asset(_ context: RequestContext) throws -> HTTPResponse {
        guard let asset = assets?.asset(named: context.parameter("name"), version: context.parameter("version")) else {
            throw APIError.notFound
        }
        return HTTPResponse(status: .ok, headers: [("Content-Type", asset.contentType), ("Cache-Control", DocsAssets.cacheControl)],
                            body: asset.bytes)
    }

    /// The pages name the current assets' versions: revalidated on every visit, so a new release is seen at once.
    private func page(_ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: [
            ("Content-Type", "text/html; charset=utf-8"), ("Content-Security-Policy", DocsPages.contentSecurityPolicy),
            ("Cache-Control", "no-cache"),
        ], body: body)
    }
}
