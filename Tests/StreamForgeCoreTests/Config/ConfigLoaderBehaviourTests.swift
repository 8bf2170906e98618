import Foundation
import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

@Suite("Loader behaviour")
struct ConfigLoaderBehaviourTests {
    private let base = "appid: a\nbootstrap: b:9092\ninput: x\noutput: y\n"

    private func diagnostics(_ text: String, path: String = "c.yaml", environment: [String: String] = [:]) -> [Diagnostic] {
        ConfigLoader.analyze(text: text, path: path, environment: environment).diagnostics.diagnostics
    }

    @Test func reportsEveryProblemInOnePass() {
        let found = diagnostics("appid: a\nbootstrap: b:9092\ninput: x\noutput: y\nthreads: 0\nworkrs: 2\noffset: now\n")
        #expect(found.map(\.line) == [5, 6, 7])
    }

    @Test func throwsConfigDiagnosticsWithTheRenderedText() {
        do {
            _ = try ConfigLoader.parse(text: base + "fliter: x\n", path: "config.yaml", environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.rendered == "config.yaml:5:1: error: unknown key 'fliter'\n  hint: did you mean 'filter'?\n"
                        || error.rendered.contains("unknown key 'fliter'"))
            #expect(error.diagnostics.count == 1)
        }
    }

    /// Six lines of aliases of aliases stand for a million values: the loader refuses them at
    /// its limit instead of walking them all (nine such lines would take minutes and gigabytes).
    @Test func refusesAliasesThatExpandBeyondTheLimit() {
        var text = base + "x0: &x0 [a, b, c, d, e, f, g, h, i, j]\n"
        for level in 1...5 {
            text += "x\(level): &x\(level) [" + Array(repeating: "*x\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let found = diagnostics(text)
        #expect(found.count == 1)
        #expect(found.first?.message == "unable to parse YAML: more than 100000 values once aliases are expanded")
        // Aliases within the limit still load (and are reported for what they are: unknown keys).
        #expect(diagnostics(base + "x0: &x0 [a, b]\nx1: [*x0, *x0]\n").map(\.message) == ["unknown key 'x0'", "unknown key 'x1'"])
    }

    @Test func substitutesEnvironmentVariablesAndEscapes() throws {
        let text = "appid: \"${APP}-$${literal}\"\nbootstrap: ${HOST}:9092\ninput: x\noutput: y\n"
        let config = try ConfigLoader.parse(text: text, path: "c.yaml", environment: ["APP": "orders", "HOST": "kafka"])
        #expect(config.appid == "orders-${literal}")
        #expect(config.bootstrap == "kafka:9092")
    }

    @Test func substitutedNumbersAreNumbers() throws {
        let config = try ConfigLoader.parse(text: base + "threads: \"${THREADS}\"\n", path: "c.yaml", environment: ["THREADS": "8"])
        #expect(config.threads == 8)
    }

    @Test func fileSubstitutionDropsTheTrailingNewline() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sf-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "s3cret\n".write(to: directory.appendingPathComponent("password"), atomically: true, encoding: .utf8)
        let text = base + "security:\n  protocol: SASL_PLAINTEXT\n  sasl: {mechanism: PLAIN, username: u, password: \"${file:password}\"}\n"
        let path = directory.appendingPathComponent("config.yaml").path
        let config = try ConfigLoader.parse(text: text, path: path, environment: [:])
        #expect(config.sourceSecurity.last?.value == "s3cret")
    }

    @Test func unreadableSecretFileIsALocatedError() {
        let text = base + "security:\n  protocol: SASL_PLAINTEXT\n  sasl: {mechanism: PLAIN, username: u, password: \"${file:/nonexistent/pw}\"}\n"
        let found = diagnostics(text)
        #expect(found.count == 1)
        #expect(found.first?.message == "unable to read /nonexistent/pw for '${file:...}': no such file")
        #expect(found.first?.line == 7)
    }

    @Test func invalidRegexInputIsReported() {
        let found = diagnostics("appid: a\nbootstrap: b:9092\ninput: ^orders(\noutput: y\n")
        #expect(found.map(\.keyPath) == ["input"])
    }

    @Test func writingBackToTheSourceTopicOnTheSameClusterIsAnError() {
        let found = diagnostics("appid: a\nbootstrap: b:9092\ninput: x\noutput: x\n")
        #expect(found.map(\.line) == [4])
        #expect(found.first?.message.contains("replicate its own output") == true)
    }

    @Test func librdkafkaPropertiesThatCarryOurGuaranteesAreRejected() {
        let found = diagnostics(base + "consumer_properties:\n  enable.auto.offset.store: true\n  fetch.min.bytes: 1\n")
        #expect(found.map(\.keyPath) == ["consumer_properties[\"enable.auto.offset.store\"]"])
    }

    @Test func compressionWithoutATypeIsOffAndSaysSo() throws {
        let analysis = ConfigLoader.analyze(text: base + "compression: {compression_algo: zstd}\n", path: "c.yaml", environment: [:])
        #expect(analysis.config?.compression == nil)
        #expect(analysis.diagnostics.warnings.count == 1)
    }

    @Test func tabsInJSONAreWhitespace() throws {
        let json = "{\n\t\"appid\": \"a\",\n\t\"bootstrap\": \"b:9092\",\n\t\"input\": \"x\",\n\t\"output\": \"tab\\there\"\n}"
        let found = diagnostics(json, path: "c.json")
        #expect(found.map(\.line) == [5])  // the decoded tab is not a valid topic character
    }

    @Test func jsonEscapesAndCompactSyntaxParse() throws {
        let json = #"{"appid":"a\/b","bootstrap":"b:9092","input":"x","output":"y","threads":2}"#
        let config = try ConfigLoader.parse(text: json, path: "c.json", environment: [:])
        #expect(config.appid == "a/b")
        #expect(config.threads == 2)
    }

    @Test func unknownExtensionIsReadAsYAMLOrJSON() throws {
        let yaml = try ConfigLoader.parse(text: base, path: "streamforge.conf", environment: [:])
        let json = try ConfigLoader.parse(text: #"{"appid":"a","bootstrap":"b:9092","input":"x","output":"y"}"#,
                                          path: "streamforge.conf", environment: [:])
        #expect(yaml.appid == json.appid)
    }

    @Test func dslStringsRememberWhereEachCharacterWasWritten() {
        // A language error is reported inside the string: past the opening quote and the
        // two-character escape `\t`, at the bad operator.
        let text = base.replacingOccurrences(of: "output: y\n", with: "") + """
            target_broker: t:9092
            routing:
              destinations:
                - output: y
                  filter: "/a\\t,=<,1"
                  transform: 'it''s'
                  key_transform: /id
            """
        let analysis = ConfigLoader.analyze(text: text, path: "c.yaml", environment: [:])
        let filter = analysis.diagnostics.diagnostics.first { $0.keyPath == "routing.destinations[0].filter" }
        #expect(filter?.line == 8)
        #expect(filter?.column == 21, "\(filter?.description ?? "no diagnostic")")
        let context = LoadContext(file: "c.yaml", text: text, environment: [:], readFile: ConfigTextFiles.read)
        let yamlNode: ConfigNode? = {
            if case .document(let root) = DocumentParser.parse(text: text, format: .yaml, file: "c.yaml") { return root }
            return nil
        }()
        guard let root = yamlNode, case .mapping(let pairs) = root.kind,
              case .mapping(let routing) = pairs.last!.value.kind,
              case .sequence(let destinations) = routing[0].value.kind,
              case .mapping(let destination) = destinations[0].kind else {
            Issue.record("unexpected tree"); return
        }
        let filterString = context.located(destination[1].value, "filter")!
        #expect(filterString.value == "/a\t,=<,1")
        #expect(filterString.location(ofScalarOffset: 0).column == 16)  // after the quote
        #expect(filterString.location(ofScalarOffset: 2).column == 18)  // the escape \t
        #expect(filterString.location(ofScalarOffset: 3).column == 20)  // the comma after it
        let transform = context.located(destination[2].value, "transform")!
        #expect(transform.value == "it's")
        #expect(transform.location(ofScalarOffset: 3).column == 23)  // 's' after the doubled quote
        let key = context.located(destination[3].value, "key_transform")!
        #expect(key.location(ofScalarOffset: 1).column == 23)
    }

    @Test func substitutedCharactersPointAtTheirReference() {
        let text = "appid: a\nbootstrap: b:9092\ninput: x\noutput: y\ntransform: \"/x,==,${V}z\"\n"
        let context = LoadContext(file: "c.yaml", text: text, environment: ["V": "12"], readFile: ConfigTextFiles.read)
        guard case .document(let root) = DocumentParser.parse(text: text, format: .yaml, file: "c.yaml"),
              case .mapping(let pairs) = root.kind else { Issue.record("unexpected tree"); return }
        let located = context.located(pairs[4].value, "transform")!
        #expect(located.value == "/x,==,12z")
        #expect(located.location(ofScalarOffset: 6).column == 19)  // '1' from ${V}
        #expect(located.location(ofScalarOffset: 8).column == 23)  // 'z' after it
    }

    @Test func resolvePathPrefersTheFlagThenTheEnvironment() {
        #expect(ConfigLoader.resolvePath(explicit: "/x.yaml", environment: ["CONFIG_FILE": "/y.json"]) == "/x.yaml")
        #expect(ConfigLoader.resolvePath(explicit: nil, environment: ["CONFIG_FILE": "/y.json"]) == "/y.json")
        #expect(ConfigLoader.resolvePath(explicit: "", environment: [:]) == "/etc/streamforge/config.json")
    }

    @Test func suggestionsFindTyposButNotUnrelatedWords() {
        #expect(ConfigSuggestions.closest(to: "targt_broker", in: ["target_broker", "bootstrap"]) == "target_broker")
        #expect(ConfigSuggestions.closest(to: "targetBroker", in: ["target_broker", "bootstrap"]) == "target_broker")
        #expect(ConfigSuggestions.closest(to: "oputput", in: ["output", "input"]) == "output")
        #expect(ConfigSuggestions.closest(to: "zzz", in: ["output", "input"]) == nil)
    }

    // MARK: The single-destination shape

    @Test func topLevelPartitionIsTheSingleDestinationsPartitioner() throws {
        let byField = try ConfigLoader.parse(text: base + "partition: /userId\n", path: "c.yaml", environment: [:])
        #expect(byField.destinations.map(\.partition) == [.field("/userId")])
        #expect(byField.destinations.first?.locations["partition"]?.location.line == 5)
        let preserve = try ConfigLoader.parse(text: base + "transform: /payload\npartition: preserve\n", path: "c.yaml", environment: [:])
        #expect(preserve.destinations.map(\.partition) == [.preserve])
        #expect(preserve.destinations.first?.transform == "/payload")
        // The pipeline compiles it: the record goes where murmur2 of the field puts it.
        let pipeline = try Pipeline(routing: RoutingConfig(destinations: byField.destinations))
        var record = try DryRunRecord(line: #"{"value":{"userId":"u-7"}}"#)
        record.topic = "x"
        let results = record.withInputRecord { pipeline.process($0) }
        guard case .produce(let out)? = results.first else { Issue.record("expected a record"); return }
        #expect(out.partition == .hash(Array("u-7".utf8)))
    }

    @Test func topLevelPartitionErrorsAreLocated() {
        let found = diagnostics(base + "partition: /a~2\n")
        #expect(found.count == 1)
        #expect(found.first?.keyPath == "partition")
        #expect(found.first?.line == 5)
        #expect(found.first?.message.contains("'~' must be followed by '0' or '1'") == true)
        let word = diagnostics(base + "partition: random\n")
        #expect(word.first?.message == "invalid value 'random'")
    }

    @Test func topLevelPartitionBesideRoutingIsIgnoredWithAWarning() throws {
        let text = "appid: a\nbootstrap: b:9092\ninput: x\npartition: /k\nrouting:\n  destinations:\n    - output: y\n"
        let analysis = ConfigLoader.analyze(text: text, path: "c.yaml", environment: [:])
        #expect(analysis.config?.destinations.map(\.partition) == [.keyHash])
        let warning = analysis.diagnostics.diagnostics.first
        #expect(warning?.severity == .warning)
        #expect(warning?.keyPath == "partition")
        #expect(warning?.message == "ignored because 'routing' is set")
    }

    @Test func destinationKeysAtTheTopLevelSayWhereTheyGo() {
        for key in ["filter: /a,==,1", "key_transform: /id", "timestamp: CURRENT", "error_policy: fail",
                    "headers: {x: y}", "header_transforms: []", "match_value: a"] {
            let found = diagnostics(base + key + "\n")
            let name = String(key.prefix { $0 != ":" })
            #expect(found.count == 1, "\(key)")
            #expect(found.first?.message == "unknown key '\(name)'")
            #expect(found.first?.hint == "'\(name)' belongs to a destination: write it in 'routing.destinations[]', next to that destination's 'output'")
        }
    }
}
