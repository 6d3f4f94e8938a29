import HTTP

/// `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`: public, no database. The key set is
/// cacheable for `maxAgeSeconds` and revalidated by `ETag`; the discovery document is `no-store` (its route says so).
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
        // Only what a verifier can check with the key set: the published keys' algorithms (never HS256, whose secret
        // is not published), the first published key's first (the signing key's, when a key pair signs), in a fixed order so that every worker answers the same bytes.
        let published = services.tokens.publishedKeys.map(\.algorithm)
        let first = published.first
        algorithms = ((first.map { [$0] } ?? []) + JWTAlgorithm.allCases.filter { $0 != first && published.contains($0) }).map(\.rawValue)
    }

    /// The same bytes for every request: made and tagged once per worker.
    func jwks(_ context: RequestContext) throws -> Revalidated<KeySet> {
        try Revalidated(keySet, tag: keySetTag, maxAge: Self.maxAgeSeconds, request: context.request)
    }

    /// `issuer` is `JWT_ISSUER`, what tokens carry in `iss` (null when it is set empty: tokens then carry none).
    /// `jwks_uri` is under `JWT_ISSUER` when that is an http(s) URL (OpenID's convention: the issuer's URL is where
    /// discovery starts), otherwise built from the request: its scheme, `Host` and mount point. A client chooses its
    /// `Host`, so no cache may keep the answer for others: the route is `no-store` (nginx writes it, whatever
    /// `JWT_ISSUER` is: the route table declares one policy per route), and the answer says it varies with `Host`.
    func openIDConfiguration(_ context: RequestContext) -> OpenIDConfiguration {
        let request = context.request
        let serviceURL = issuerURL ?? (request.scheme ?? "http") + "://" + (request.host ?? "localhost") + PercentEncoding.path(request.mountPath)
        return OpenIDConfiguration(issuer: issuer, jwksURI: serviceURL + "/.well-known/jwks.json", algorithms: algorithms)
    }
}
