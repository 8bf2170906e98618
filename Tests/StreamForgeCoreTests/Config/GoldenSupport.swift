import Foundation
@testable import StreamForgeCore
@testable import StreamForgeLanguage

/// Access to the golden fixtures: `Golden/bad/<name>` are invalid configurations whose rendered
/// diagnostics must equal `<name>.expected`; `Golden/good` and `Golden/compat` load.
enum Golden {
    static var directory: URL {
        Bundle.module.url(forResource: "Golden", withExtension: nil)!
    }

    /// The fixtures in the source tree (for re-recording with STREAMFORGE_RECORD_GOLDEN=1).
    static var sourceDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Golden")
    }

    static func names(in folder: String) -> [String] {
        let url = directory.appendingPathComponent(folder)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return files.filter { $0.hasSuffix(".json") || $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }

    static func text(_ folder: String, _ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(folder).appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    static func path(_ folder: String, _ name: String) -> String {
        directory.appendingPathComponent(folder).appendingPathComponent(name).path
    }

    /// The environment every golden file is loaded with.
    static let environment = ["KAFKA_PASSWORD": "s3cr3t-from-env", "KAFKA_USER": "replicator"]
}
