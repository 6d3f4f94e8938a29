import HTTP

/// `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`: public, no database, cacheable for
/// `maxAgeSeconds` and revalidated by `ETag`.
struct KeysController {
    /// How long verifiers and caches may keep the answers: a key published ahead of its use (see the rotation
    /// procedure in docs/deploy.md) must have been listed at least this long before it signs.
    static let maxAgeSeconds = 300

    private let keySet: KeySet
    private let keySetTag: String
    private let issuer: String?
    /// `JWT_ISSUER` when it is an http(s) URL, without a trailing slash.
    private let issuerURL: String?
    private let algorithms: [String]

    init(_ services: Services) {
        keySet = services.keySet
        keySetTag = services.keySetTag
        issuer = services.configuration.jwtIssuer
        issuerURL = issuer.flatMap { issuer in
            guard issuer.hasPrefix("https://") || issuer.hasPrefix("http://") else { return nil }
            return issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        }
        // In a fixed order (not the key map's), so that every worker answers the same bytes and ETag.
        let signing = services.tokens.signingKey.algorithm
        let verifying = Set(services.tokens.keys.values.map(\.algorithm))
        algorithms = ([signing] + JWTAlgorithm.allCases.filter { $0 != signing && verifying.contains($0) }).map(\.rawValue)
    }

    /// The same bytes for every request: made and tagged once per worker.
    func jwks(_ context: RequestContext) throws -> Revalidated<KeySet> {
        try Revalidated(keySet, tag: keySetTag, maxAge: Self.maxAgeSeconds, request: context.request)
    }

    /// `issuer` is `JWT_ISSUER` (what tokens carry in `iss`), or the service's URL when that is set empty.
    /// `jwks_uri` is under `JWT_ISSUER` when it is an http(s) URL (OpenID's convention: the issuer's URL is where
    /// discovery starts), otherwise built from the request: its scheme, `Host` and mount point.
    func openIDConfiguration(_ context: RequestContext) throws -> Revalidated<OpenIDConfiguration> {
        let request = context.request
        let serviceURL = (request.scheme ?? "http") + "://" + (request.host ?? "localhost") + PercentEncoding.path(request.mountPath)
        let answer = OpenIDConfiguration(issuer: issuer ?? serviceURL, jwksURI: (issuerURL ?? serviceURL) + "/.well-known/jwks.json",
                                         algorithms: algorithms)
        return try Revalidated(answer, maxAge: Self.maxAgeSeconds, request: request)
    }
}
