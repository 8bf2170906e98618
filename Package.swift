// swift-tools-version:6.1
import PackageDescription

// One settings array for every Swift target: Swift 6 language mode everywhere.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    // An import is internal unless written `public import`: a module exposes only what it says.
    .enableUpcomingFeature("InternalImportsByDefault"),
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
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    // Dependencies point one way (docs/architecture.md):
    //   StreamForgeLanguage <- StreamForgeCore <- StreamForgeIPC <- StreamForgeWorker, StreamForgeSupervisor <- executables
    //   KafkaBridge <- StreamForgeWorker, streamforgectl (target metadata), streamforge-devbroker
    // Each C module is seen by exactly one Swift module; `make check-boundaries` fails otherwise.
    targets: [
        // C libraries from Debian.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // PCRE2 with JIT for the language's regular expressions (Swift's Regex is slow on Linux).
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        // The JSON scanner's innermost loops, with SSE2 compares (header-only, inlined).
        .target(name: "CJSONScan"),
        // Macros of <sys/wait.h> and prctl(2), which Swift cannot call directly (seen by StreamForgeIPC).
        .target(name: "CProcessShim"),

        // The only module that imports librdkafka; it exposes Swift types.
        .target(
            name: "KafkaBridge",
            dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The filter/transform language: routing model, parser, compiler (Pipeline), JSON
        // scanner, hashes, regexes. The only user of CPCRE2 and CJSONScan.
        .target(
            name: "StreamForgeLanguage",
            dependencies: ["CPCRE2", "CJSONScan", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // No C and no sockets: configuration (model, loader, diagnostics, librdkafka property
        // defaults), exit codes, status types, dry-run.
        .target(
            name: "StreamForgeCore",
            dependencies: ["StreamForgeLanguage", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // Wire types, line framing, Unix sockets, both ends of the control socket and the
        // supervisor<->worker link.
        .target(
            name: "StreamForgeIPC",
            dependencies: ["StreamForgeCore", "CProcessShim", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: swiftSettings
        ),
        // Spawns and supervises the workers: pure state machine, process table, systemd
        // notifications, metrics; raw syscalls in its Sys/ folder.
        .target(
            name: "StreamForgeSupervisor",
            dependencies: ["StreamForgeCore", "StreamForgeIPC", "CSystemd",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // consume -> route -> produce -> commit: a pure core and the loop around it.
        .target(
            name: "StreamForgeWorker",
            dependencies: [
                "StreamForgeCore", "StreamForgeLanguage", "StreamForgeIPC", "KafkaBridge",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "streamforged",
            dependencies: [
                "StreamForgeCore", "StreamForgeIPC", "StreamForgeWorker", "StreamForgeSupervisor", "KafkaBridge",
                "StreamForgeControl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // streamforgectl's commands. Never the worker or the supervisor: the control client is
        // in StreamForgeIPC. A library so that `streamforged` can run them when started as
        // `streamforgectl` (the package installs one binary and a symlink).
        .target(
            name: "StreamForgeControl",
            dependencies: [
                "StreamForgeCore", "StreamForgeLanguage", "StreamForgeIPC", "KafkaBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "streamforgectl", dependencies: ["StreamForgeControl"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "streamforge-devbroker",
            dependencies: [
                "KafkaBridge", "StreamForgeIPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // `make bench-dsl`: per-record cost of the language.
        .executableTarget(name: "streamforge-bench-dsl", dependencies: ["StreamForgeLanguage"], swiftSettings: swiftSettings),

        .testTarget(name: "StreamForgeLanguageTests", dependencies: ["StreamForgeLanguage"], swiftSettings: swiftSettings),
        .testTarget(name: "StreamForgeCoreTests", dependencies: ["StreamForgeCore", "StreamForgeLanguage"],
                    resources: [.copy("Golden")], swiftSettings: swiftSettings),
        .testTarget(name: "StreamForgeIPCTests", dependencies: ["StreamForgeIPC", "StreamForgeCore"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "StreamForgeSupervisorTests", dependencies: ["StreamForgeSupervisor", "StreamForgeIPC", "StreamForgeCore"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "KafkaBridgeTests", dependencies: ["KafkaBridge", "StreamForgeLanguage", "StreamForgeTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "StreamForgeWorkerTests", dependencies: ["StreamForgeWorker", "StreamForgeCore", "StreamForgeLanguage",
                                                                   "StreamForgeIPC", "KafkaBridge", "StreamForgeTestSupport"],
                    swiftSettings: swiftSettings),
        // Helpers shared by the tests that talk to brokers and run the binaries.
        .target(name: "StreamForgeTestSupport", dependencies: ["KafkaBridge"], path: "Tests/TestSupport",
                swiftSettings: swiftSettings),
        .testTarget(name: "SystemTests", dependencies: ["KafkaBridge", "StreamForgeCore", "StreamForgeLanguage", "StreamForgeIPC", "StreamForgeTestSupport"],
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
        package.targets.append(.executableTarget(name: name, dependencies: ["StreamForgeCore", "StreamForgeLanguage", "StreamForgeIPC"], path: "Fuzz/\(name)",
                                                 swiftSettings: swiftSettings))
    }
}
