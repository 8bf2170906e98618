// swift-tools-version:6.1
import PackageDescription

// One settings array for every Swift target: Swift 6 language mode everywhere.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "StreamForge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "streamforged", targets: ["streamforged"]),
        .executable(name: "streamforgectl", targets: ["streamforgectl"]),
        .executable(name: "streamforge-devbroker", targets: ["streamforge-devbroker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C libraries from Debian, seen only through these two modules.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // PCRE2 with JIT for the language's regular expressions (Swift's Regex is slow on Linux).
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),

        // The only module that imports librdkafka; it exposes Swift types.
        .target(
            name: "KafkaBridge",
            dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The JSON scanner's innermost loops, with SSE2 compares (header-only, inlined).
        .target(name: "CJSONScan"),
        // No sockets and no librdkafka: configuration, routing, the language, stats types.
        // Its C dependencies are PCRE2 and the scanner loops.
        .target(
            name: "StreamForgeCore",
            dependencies: ["CPCRE2", "CJSONScan", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Spawns and supervises the workers: pure state machine, process table, control
        // socket, systemd notifications; raw syscalls in its Sys/ folder.
        .target(
            name: "StreamForgeSupervisor",
            dependencies: ["StreamForgeCore", "CSystemd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // consume → route → produce → commit.
        .target(
            name: "StreamForgeWorker",
            dependencies: [
                "StreamForgeCore", "KafkaBridge",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "streamforged",
            dependencies: [
                "StreamForgeCore", "StreamForgeWorker", "StreamForgeSupervisor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "streamforgectl",
            dependencies: [
                "StreamForgeCore", "StreamForgeSupervisor", "StreamForgeWorker", "KafkaBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "streamforge-devbroker",
            dependencies: [
                "KafkaBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // `make bench-dsl`: per-record cost of the language.
        .executableTarget(name: "streamforge-bench-dsl", dependencies: ["StreamForgeCore"], swiftSettings: swiftSettings),

        .testTarget(name: "StreamForgeCoreTests", dependencies: ["StreamForgeCore"],
                    resources: [.copy("Golden")], swiftSettings: swiftSettings),
        .testTarget(name: "StreamForgeSupervisorTests", dependencies: ["StreamForgeSupervisor", "StreamForgeCore"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "KafkaBridgeTests", dependencies: ["KafkaBridge", "StreamForgeCore", "StreamForgeTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "StreamForgeWorkerTests", dependencies: ["StreamForgeWorker", "StreamForgeCore", "KafkaBridge", "StreamForgeTestSupport"],
                    swiftSettings: swiftSettings),
        // Helpers shared by the tests that talk to brokers and run the binaries.
        .target(name: "StreamForgeTestSupport", dependencies: ["KafkaBridge"], path: "Tests/TestSupport",
                swiftSettings: swiftSettings),
        .testTarget(name: "SystemTests", dependencies: ["KafkaBridge", "StreamForgeCore", "StreamForgeTestSupport"],
                    swiftSettings: swiftSettings),
    ]
)

// libFuzzer targets (`make fuzz`, scripts/fuzz.sh), one per input StreamForge reads from
// outside: language strings, record values, configuration files, protocol lines. They have no
// main(): libFuzzer supplies it when they are built with --sanitize=fuzzer, and they link with
// nothing else. So they are declared only when scripts/fuzz.sh asks (STREAMFORGE_FUZZ=1, its own
// scratch path), and `swift build` and `swift test` never see them.
if Context.environment["STREAMFORGE_FUZZ"] != nil {
    for name in ["fuzz-json", "fuzz-language", "fuzz-config", "fuzz-protocol"] {
        package.targets.append(.executableTarget(name: name, dependencies: ["StreamForgeCore"], path: "Fuzz/\(name)",
                                                 swiftSettings: swiftSettings))
    }
}
