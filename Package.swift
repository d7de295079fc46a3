// swift-tools-version:6.0
import PackageDescription

/// Switchboard: the backend gateway of a chat and VoIP app. See ../shared/design/ARCHITECTURE.md.
/// Arrows point down only: HTTP → Services → Loop; the C modules sit below everything.
let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // System libraries, each with the Debian package that provides it.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CMHD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CIDN", pkgConfig: "libidn", providers: [.apt(["libidn-dev"])]),
        // The one C shim: wrappers for variadic and macro-only C APIs that Swift cannot call.
        .target(name: "CShims", dependencies: ["CMHD", "COpenSSL", "CIDN", "CCurl"]),

        .systemLibrary(name: "CEpoll"),
        .target(name: "Loop", dependencies: ["CEpoll"]),
        .target(
            name: "XMPPComponent",
            dependencies: ["Loop", "CLibXML2", "COpenSSL", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Services",
            dependencies: ["Loop", "XMPPComponent", "CLibPQ", "COpenSSL", "CCurl", "CShims", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "HTTP",
            dependencies: ["Loop", "Services", "CMHD", "CShims", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "SIPHooks", dependencies: ["Loop", "Services", "HTTP"]),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "Loop", "Services", "HTTP", "SIPHooks", "XMPPComponent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Micro-benchmarks of hot pure functions (bench/RESULTS.md); not part of the product.
        .executableTarget(name: "switchboard-bench", dependencies: ["Services", "XMPPComponent"], path: "bench/micro"),
        // The I/O clients alone (HTTP/2, PostgreSQL), beside plain uses of their C libraries.
        .executableTarget(name: "switchboard-io-bench", dependencies: ["Services", "Loop", "CCurl", "CShims", "CLibPQ"], path: "bench/io"),

        .testTarget(name: "LoopTests", dependencies: ["Loop"], path: "Tests/LoopTests"),
        .testTarget(name: "ServicesTests", dependencies: ["Services", "Loop"], path: "Tests/ServicesTests"),
        .testTarget(name: "XMPPComponentTests", dependencies: ["XMPPComponent", "Loop"], path: "Tests/XMPPComponentTests"),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Services", "Loop"], path: "Tests/HTTPTests"),
        .testTarget(name: "SIPHooksTests", dependencies: ["SIPHooks", "HTTP", "Services", "Loop"], path: "Tests/SIPHooksTests"),
    ]
)
