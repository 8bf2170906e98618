import Foundation
import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

@Suite("check-config")
struct ConfigCheckTests {
    @Test func validFileExitsZeroWithASummary() {
        let result = ConfigCheck.run(path: Golden.path("good", "content-routing.json"), environment: [:])
        #expect(result.exitCode == 0)
        #expect(result.output.hasPrefix("config OK: appid=events-router, input=events, 3 destinations, routing=content"))
    }

    @Test func invalidFileExits78WithEveryDiagnostic() {
        let result = ConfigCheck.run(path: Golden.path("bad", "many-problems.json"), environment: [:])
        #expect(result.exitCode == 78)
        #expect(result.output.components(separatedBy: ": error: ").count - 1 == 7)
        #expect(result.output.hasSuffix("many-problems.json: 7 errors\n"))
    }

    @Test func unreadableFileExits78WithTheReason() {
        let result = ConfigCheck.run(path: "/nonexistent/streamforge.json", environment: [:])
        #expect(result.exitCode == 78)
        #expect(result.output.contains("unable to read config /nonexistent/streamforge.json: no such file"))
    }

    @Test func thePackagedExampleConfigurationIsValid() throws {
        // Tests/StreamForgeCoreTests/Config/<this file> → the repository root.
        let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("etc/streamforge").path
        for name in ["config.json", "config.example.yaml"] {
            let result = ConfigCheck.run(path: directory + "/" + name, environment: [:])
            #expect(result.exitCode == 0, "\(name): \(result.output)")
        }
    }
}
