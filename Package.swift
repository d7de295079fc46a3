// swift-tools-version:6.0
import PackageDescription

/// Switchboard: the backend gateway of a chat and VoIP app. docs/architecture.md draws these modules
/// and their arrows; the arrows point down only, and the compiler enforces them: each target sees only
/// what it lists, and `InternalImportsByDefault` + `MemberImportVisibility` keep a dependency from
/// leaking through another module's imports.
let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

/// A Swift target with the upcoming features on.
func module(_ name: String, _ dependencies: [Target.Dependency], path: String? = nil) -> Target {
    .target(name: name, dependencies: dependencies, path: path, swiftSettings: upcoming)
}

func tests(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .testTarget(name: name, dependencies: dependencies, path: "Tests/\(name)", swiftSettings: upcoming)
}

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // System libraries, each with the Debian package that provides it.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CMHD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CIDN", pkgConfig: "libidn", providers: [.apt(["libidn-dev"])]),
        .systemLibrary(name: "CEpoll"),
        // One shim per C library whose API Swift cannot call (C-variadic functions, extern arrays),
        // seen only by the module that wraps that library.
        .target(name: "CMHDShims", dependencies: ["CMHD"]),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .target(name: "CIDNShims", dependencies: ["CIDN"]),

        // The serial loop, its sources, a checked LoopBound, one backoff, one clock, one lifecycle.
        module("Loop", ["CEpoll", logging]),
        // Pure value codecs: JSON, Base64/Base32/hex, HTTP dates.
        module("Codecs", []),
        // Log lines as operators read them: text, or one JSON object per line (LOG_FORMAT).
        module("Logs", ["Codecs", logging]),
        // OpenSSL and libidn: digests, HMAC, signing keys, JWS, SCRAM, stringprep, randomness.
        module("Crypto", ["Codecs", "COpenSSL", "CIDNShims"]),
        // PostgreSQL through libpq on the loop: connection, pool, results, migration runner, cache.
        module("Postgres", ["Loop", "CLibPQ", logging]),
        // Outbound HTTP/2 (libcurl multi) and its connection policy.
        module("HTTP2Client", ["Loop", "CCurl", "CCurlShims", logging]),
        // Pure XMPP: elements, the stream parser and serializer, JID, stanza errors, data forms, one
        // file per XEP, the XEP-0114 session state machine.
        module("XMPP", ["Crypto", "CLibXML2"]),
        // XMPP I/O: the component connection on the loop and its IQ router.
        module("XMPPComponent", ["XMPP", "Loop", logging]),
        // libmicrohttpd on the loop: server, router, requests and responses; no JSON, no domain.
        module("HTTPServer", ["Loop", "Codecs", "CMHD", "CMHDShims", logging]),
        // Prometheus metrics (swift-prometheus): the registry, timed routes, what /metrics shows.
        module("Telemetry", ["HTTPServer", "Loop", .product(name: "Prometheus", package: "swift-prometheus")]),
        // What Switchboard does: accounts, tokens, groups, calls, TURN, pushes.
        module("Services", ["Loop", "Codecs", "Crypto", "Postgres", "HTTP2Client", "XMPP", logging]),
        // The environment and key files, read and checked once at start-up.
        module("Config", ["Services", "Crypto", "Codecs", "Postgres", logging]),
        // The API conventions shared by the phone API and the hooks: JSON errors and bodies, auth.
        module("JSONAPI", ["HTTPServer", "Services", "Postgres", "Codecs"]),
        // CONTRACTS §1 and §2.
        module("PhoneAPI", ["JSONAPI", "HTTPServer", "Services", "Config", "Postgres", "Codecs", "Crypto", "XMPP", "Loop", "Telemetry"]),
        module("SIPHooks", ["JSONAPI", "HTTPServer", "Services", "Crypto", "Postgres", "Codecs", "Loop"]),
        // The operator endpoints behind ADMIN_TOKEN (docs/operations.md).
        module("OperatorAPI", ["JSONAPI", "HTTPServer", "Services", "Config", "Crypto", "Postgres", "Codecs", "XMPP", "Loop"]),
        // The composition root: configuration, wiring, the service runner, the commands.
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "Loop", "Postgres", "HTTP2Client", "XMPP", "XMPPComponent", "HTTPServer", "Services", "Config",
                "JSONAPI", "PhoneAPI", "SIPHooks", "OperatorAPI", "Logs", "Telemetry", logging,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming
        ),

        // Micro-benchmarks of hot pure functions (bench/RESULTS.md); not part of the product.
        .executableTarget(name: "switchboard-bench", dependencies: ["Services", "XMPP", "Codecs", "Crypto"], path: "bench/micro"),
        // The I/O clients alone (HTTP/2, PostgreSQL), beside plain uses of their C libraries.
        .executableTarget(name: "switchboard-io-bench",
                          dependencies: ["HTTP2Client", "Postgres", "Loop", "CCurl", "CCurlShims", "CLibPQ", logging], path: "bench/io"),

        // Helpers shared by the test targets (a real PostgreSQL, fixtures, the project's Python).
        .target(name: "SwitchboardTesting", dependencies: ["Loop", "Postgres", "Logs", "Codecs", logging], path: "Tests/SwitchboardTesting"),
        tests("LoopTests", ["Loop", logging]),
        tests("CodecsTests", ["Codecs"]),
        tests("LogsTests", ["Logs", "Codecs", logging]),
        tests("TelemetryTests", ["Telemetry", "HTTPServer", "Loop"]),
        tests("CryptoTests", ["Crypto", "Codecs", "SwitchboardTesting"]),
        tests("PostgresTests", ["Postgres", "Loop", "SwitchboardTesting", logging]),
        tests("HTTP2ClientTests", ["HTTP2Client", "Loop", "SwitchboardTesting", logging]),
        tests("XMPPTests", ["XMPP"]),
        tests("XMPPComponentTests", ["XMPPComponent", "XMPP", "Loop", logging]),
        tests("HTTPServerTests", ["HTTPServer", "JSONAPI", "Codecs", "Loop", "SwitchboardTesting", logging]),
        tests("ServicesTests", ["Services", "Postgres", "XMPP", "Codecs", "Crypto", "Loop", "SwitchboardTesting", logging]),
        tests("ConfigTests", ["Config", "Services", "SwitchboardTesting"]),
        tests("PhoneAPITests", ["PhoneAPI", "JSONAPI", "HTTPServer", "Services", "Postgres", "Codecs", "Loop", "SwitchboardTesting", logging]),
        tests("SIPHooksTests", ["SIPHooks", "JSONAPI", "HTTPServer", "Services", "Loop"]),
        tests("OperatorAPITests", ["OperatorAPI", "HTTPServer"]),
    ]
)
