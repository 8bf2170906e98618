import Foundation
import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

@Suite("Golden diagnostics")
struct ConfigGoldenTests {
    /// Each bad file is parsed under its bare name (so the expected text does not depend on
    /// where the bundle lives) and must render exactly its `.expected` file.
    @Test("bad configuration renders the expected diagnostics", arguments: Golden.names(in: "bad"))
    func badConfigurationRendersExpectedDiagnostics(name: String) throws {
        let text = Golden.text("bad", name)
        let analysis = ConfigLoader.analyze(text: text, path: name, environment: Golden.environment)
        #expect(analysis.config == nil, "a bad fixture must not load")
        let rendered = analysis.diagnostics.rendered
        let expectedName = name + ".expected"
        if ProcessInfo.processInfo.environment["STREAMFORGE_RECORD_GOLDEN"] == "1" {
            let url = Golden.sourceDirectory.appendingPathComponent("bad").appendingPathComponent(expectedName)
            try rendered.write(to: url, atomically: true, encoding: .utf8)
        }
        let expected = Golden.text("bad", expectedName)
        #expect(!expected.isEmpty, "missing Golden/bad/\(expectedName)")
        #expect(rendered == expected)
    }

    @Test("no diagnostic ever shows a secret value", arguments: Golden.names(in: "bad"))
    func diagnosticsNeverShowSecrets(name: String) {
        let analysis = ConfigLoader.analyze(text: Golden.text("bad", name), path: name, environment: Golden.environment)
        let rendered = analysis.diagnostics.rendered
        for secret in ["hunter2", ":secret@", "s3cr3t-from-env"] {
            #expect(!rendered.contains(secret))
        }
    }
}
