// swift-tools-version: 6.0
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "git2kv",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "git2kv", targets: ["git2kv"]),
        .executable(name: "git2kv-node", targets: ["git2kv-node"]),
        .library(name: "Secrets", targets: ["Secrets"]),
        .library(name: "GitKit", targets: ["GitKit"]),
        .library(name: "BundleFormat", targets: ["BundleFormat"]),
        .library(name: "KV", targets: ["KV"]),
        .library(name: "KVServer", targets: ["KVServer"]),
        .library(name: "StructuredText", targets: ["StructuredText"]),
        .library(name: "ConfigParsing", targets: ["ConfigParsing"]),
        .library(name: "Leadership", targets: ["Leadership"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Daemon", targets: ["Daemon"]),
        .library(name: "Renderer", targets: ["Renderer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        .target(
            name: "Secrets",
            swiftSettings: strictSettings
        ),
        .target(
            name: "LifecycleSupport",
            dependencies: [.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HTTPServing",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "GitKit",
            dependencies: ["CLibGit2", "Secrets", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "BundleFormat",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KV",
            dependencies: [
                "Secrets",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KVServer",
            dependencies: [
                "HTTPServing",
                "KV", "LifecycleSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "StructuredText",
            dependencies: ["BundleFormat", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ConfigParsing",
            dependencies: [
                "KV", "Secrets", "StructuredText",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "MetricsExport",
            dependencies: [
                "ConfigParsing",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Leadership",
            dependencies: [
                "KV",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Pipeline",
            dependencies: [
                "ConfigParsing", "Leadership",
                "GitKit", "BundleFormat", "KV", "Secrets", "StructuredText",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Daemon",
            dependencies: [
                "HTTPServing",
                "Pipeline", "ConfigParsing", "Leadership", "MetricsExport", "KV", "GitKit", "Secrets", "LifecycleSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Renderer",
            dependencies: [
                "HTTPServing",
                "ConfigParsing", "Leadership", "MetricsExport", "BundleFormat", "KV", "Secrets", "LifecycleSupport", "StructuredText",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TestFixtures",
            dependencies: [],
            swiftSettings: strictSettings
        ),
        .target(
            name: "StoreFixtures",
            dependencies: ["KV", "KVServer", "TestFixtures", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(name: "CBuildInfo"),
        .target(
            name: "CommandSupport",
            dependencies: [
                "CBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "NodeCommands",
            dependencies: [
                "CommandSupport", "ConfigParsing", "Renderer", "BundleFormat", "KV",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv",
            dependencies: [
                "CommandSupport", "NodeCommands", "ConfigParsing",
                "GitKit",
                "BundleFormat",
                "KV",
                "KVServer",
                "Pipeline",
                "Daemon",
                "Renderer", "LifecycleSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-node",
            dependencies: [
                "CommandSupport", "NodeCommands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "BenchmarkSupport",
            path: "Benchmarks/Support",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-benchmarks",
            dependencies: ["GitKit", "TestFixtures", "BenchmarkSupport"],
            path: "Benchmarks/GitLayer",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-kv-benchmarks",
            dependencies: [
                "KV", "KVServer", "TestFixtures", "BenchmarkSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/KVLayer",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-kv-scale-benchmarks",
            dependencies: ["KV", "TestFixtures", "BenchmarkSupport"],
            path: "Benchmarks/KVScale",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-sync-benchmarks",
            dependencies: ["GitKit", "KV", "KVServer", "Pipeline", "TestFixtures", "BenchmarkSupport"],
            path: "Benchmarks/Sync",
            swiftSettings: strictSettings
        ),
        .target(
            name: "BenchmarkStateWait",
            dependencies: ["KV", "Pipeline"],
            path: "Benchmarks/StateWait",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-scale-benchmarks",
            dependencies: [
                "KV", "Pipeline", "TestFixtures", "BenchmarkSupport", "BenchmarkStateWait",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/Scale",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-serve-benchmarks",
            dependencies: [
                "Daemon", "KV", "Pipeline", "TestFixtures", "BenchmarkSupport", "BenchmarkStateWait",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/Serve",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-soak-benchmarks",
            dependencies: [
                "KV", "Pipeline", "TestFixtures", "BenchmarkSupport", "BenchmarkStateWait",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/Soak",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-hosts-benchmarks",
            dependencies: [
                "KV", "BundleFormat", "TestFixtures", "BenchmarkSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/HostsScale",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-node-binary-benchmarks",
            dependencies: ["TestFixtures", "BenchmarkSupport"],
            path: "Benchmarks/NodeBinary",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-render-benchmarks",
            dependencies: [
                "BundleFormat", "KV", "KVServer", "Pipeline", "TestFixtures", "BenchmarkSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/Render",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "git2kv-reliability",
            dependencies: [
                "BundleFormat", "KV", "Pipeline", "TestFixtures",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Reliability",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HTTPServingTests",
            dependencies: [
                "HTTPServing", "TestFixtures",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "GitKitTests",
            dependencies: ["GitKit", "Secrets", "TestFixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StructuredTextTests",
            dependencies: ["StructuredText"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BundleFormatTests",
            dependencies: ["BundleFormat", "TestFixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KVTests",
            dependencies: [
                "KV", "KVServer", "Secrets", "TestFixtures", "StoreFixtures",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KVServerTests",
            dependencies: ["KV", "KVServer", "TestFixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConfigParsingTests",
            dependencies: ["ConfigParsing"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MetricsExportTests",
            dependencies: ["MetricsExport", "ConfigParsing", "TestFixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LeadershipTests",
            dependencies: ["Leadership", "KV", "StoreFixtures", "TestFixtures", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Pipeline", "GitKit", "BundleFormat", "KV", "KVServer", "TestFixtures", "StoreFixtures",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Daemon", "Pipeline", "GitKit", "KV", "KVServer", "TestFixtures",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RendererTests",
            dependencies: [
                "Renderer", "Pipeline", "BundleFormat", "KV", "KVServer", "TestFixtures", "StoreFixtures",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "git2kvTests",
            dependencies: [
                "GitKit", "BundleFormat", "KV", "Pipeline", "Renderer", "TestFixtures", "StoreFixtures",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
