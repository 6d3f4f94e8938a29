import HTTP
/// The HTML of `/docs` (Swagger UI) and `/redoc` (ReDoc), as FastAPI serves them, with every URL built from the
/// request's mount point, so one pool serves correct pages at the site's root and under any prefix.
///
/// The pages hold no inline script: Swagger UI starts from `swagger-init.js`, which reads the document's URL from
/// a `data-` attribute, and ReDoc from its `<redoc spec-url>` element. So the policy allows scripts from 'self'
/// only. Styles may be inline (both UIs inject `<style>` elements at run time), ReDoc's search runs in a worker
/// made from a `blob:` URL, and Swagger UI's icons are `data:` images (the pages' favicon is an empty `data:` one,
/// so the browser asks the site for no `/favicon.ico`). The one image from elsewhere, ReDoc's "API docs by
/// Redocly" logo at cdn.redoc.ly, is blocked on purpose: the pages must work offline and make a visitor's browser
/// call no third party (ReDoc hides the image when it fails to load). nginx adds its own policy
/// (`frame-ancestors 'none'`) beside this one; a browser enforces both, and this one repeats that directive.
enum DocsPages {
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        + "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    static let title = "User Service"

    static func swaggerUI(assets: DocsAssets, mountPath: String) -> [UInt8] {
        let url = { (path: String) in attribute(mountPath + path) }
        return page("Swagger UI", head: #"<link rel="stylesheet" href="\#(url(assets.path("swagger-ui.css")))">"#, body: """
            <div id="swagger-ui" data-openapi-url="\(url("/openapi.json"))"></div>
            <script src="\(url(assets.path("swagger-ui-bundle.js")))"></script>
            <script src="\(url(assets.path("swagger-init.js")))"></script>
            """)
    }

    static func redoc(assets: DocsAssets, mountPath: String) -> [UInt8] {
        let url = { (path: String) in attribute(mountPath + path) }
        return page("ReDoc", body: """
            <redoc spec-url="\(url("/openapi.json"))"></redoc>
            <script src="\(url(assets.path("redoc.standalone.js")))"></script>
            """)
    }

    /// The page around `body`: no inline script, a blank icon (no request for /favicon.ico).
    private static func page(_ name: String, head: String? = nil, body: String) -> [UInt8] {
        Array("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) - \(name)</title>
            <link rel="icon" href="data:,">\(head.map { "\n" + $0 } ?? "")
            </head>
            <body>
            \(body)
            </body>
            </html>

            """.utf8)
    }

    /// A path as it may stand in a double-quoted attribute: percent-encoded (the mount point arrives decoded and
    /// may hold anything), then with the characters HTML gives a meaning escaped.
    static func attribute(_ path: String) -> String {
        var out = ""
        for character in PercentEncoding.path(path) {
            switch character {
            case "&": out += "&amp;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
