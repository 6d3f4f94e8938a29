// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "user-service",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "user-service", targets: ["user-service"])],
    targets: [
        // C libraries: one system module each, plus a header-only shim for macros Swift cannot import.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libxcrypt", providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "CSystem"),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Thin Swift wrappers that own the C handles, and the one helper they share for C string arrays.
        .target(name: "CInterop", swiftSettings: strict),
        .target(name: "Crypto", dependencies: ["COpenSSL", "CCrypt"], swiftSettings: strict),
        .target(name: "Postgres", dependencies: ["CLibPQ", "CInterop"], swiftSettings: strict),
        .target(name: "Metrics", dependencies: ["CSystem"], swiftSettings: strict),
        .target(name: "SMTP", dependencies: ["CCurl"], swiftSettings: strict),

        // HTTP values, JSON, the router and the responder protocol: what the application and the server share.
        .target(name: "HTTP", swiftSettings: strict),

        // The application: handlers, SQL, tokens, configuration. Imports no C module.
        .target(name: "UserService", dependencies: ["HTTP", "Crypto", "Postgres", "Metrics", "SMTP"], swiftSettings: strict),

        // FastCGI: the worker loop over libfcgi and the master/worker pool, for any responder.
        .target(name: "FastCGIServer", dependencies: ["CFastCGI", "CSystem", "CInterop", "HTTP", "Metrics"], swiftSettings: strict),

        // Wires the application into the pool; the subcommands.
        .executableTarget(name: "user-service", dependencies: ["FastCGIServer", "UserService", "HTTP", "Metrics", "Postgres", "SMTP"], swiftSettings: strict),

        .testTarget(name: "HTTPTests", dependencies: ["HTTP"], swiftSettings: strict),
        .testTarget(name: "UserServiceTests", dependencies: ["UserService", "HTTP", "Crypto", "Postgres", "Metrics", "SMTP"], swiftSettings: strict),
        .testTarget(name: "FastCGIServerTests", dependencies: ["FastCGIServer", "HTTP"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
