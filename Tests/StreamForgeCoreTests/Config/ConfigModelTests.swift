import Foundation
import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

@Suite("Valid configurations")
struct ConfigModelTests {
    private func load(_ name: String, environment: [String: String] = Golden.environment) throws -> ConfigAnalysis {
        let analysis = ConfigLoader.analyze(path: Golden.path("good", name), environment: environment)
        #expect(analysis.diagnostics.errors.isEmpty, "\(analysis.diagnostics.rendered)")
        return analysis
    }

    @Test func mirrorInTheOlderToolsJSONShapeLoadsToItsModel() throws {
        let config = try #require(try load("mirror.json").config)
        #expect(config.appid == "orders-mirror")
        #expect(config.bootstrap == "source-1:9092,source-2:9092")
        #expect(config.targetBootstrap == "target-1:9092")
        #expect(config.input == .topics(["orders", "payments"]))
        #expect(config.output == "dc1.{source_topic}")
        #expect(config.offset == .earliest)
        #expect(config.threads == 2)
        #expect(config.compression == "zstd")
        #expect(config.consumerProperties.map(\.key) == ["fetch.min.bytes", "session.timeout.ms"])
        #expect(config.consumerProperties.map(\.value) == ["1048576", "30000"])
        #expect(config.producerProperties.map(\.value) == ["10", "true"])
        #expect(config.destinations == [DestinationConfig(output: "dc1.{source_topic}")])
        #expect(config.destinations.allSatisfy { $0.isPureMirror })
        #expect(config.delivery == .atLeastOnce)
        #expect(config.staticMembership)
        #expect(config.workers == nil)
        #expect(config.dlq.topic == DLQConfig.defaultTopic)
        #expect(config.sourcePath.hasSuffix("good/mirror.json"))
    }

    @Test func saslSecurityBecomesLibrdkafkaPropertiesOnBothClusters() throws {
        let config = try #require(try load("sasl-scram.yaml").config)
        let expected: [(String, String)] = [
            ("security.protocol", "sasl_ssl"), ("ssl.ca.location", "/etc/ssl/certs/kafka-ca.pem"),
            ("ssl.endpoint.identification.algorithm", "https"), ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "replicator"), ("sasl.password", "s3cr3t-from-env"),
        ]
        #expect(config.sourceSecurity.map(\.key) == expected.map(\.0))
        #expect(config.sourceSecurity.map(\.value) == expected.map(\.1))
        #expect(config.targetSecurity.map(\.key) == expected.map(\.0))
        #expect(config.consumerProperties.isEmpty, "security stays in its own block")
        #expect(config.input == .pattern("^payments\\..*"))
        #expect(config.output == "{source_topic}")
    }

    @Test func contentRoutingKeepsDestinationsInFileOrder() throws {
        let config = try #require(try load("content-routing.json").config)
        let routing = try #require(config.routing)
        #expect(routing.routingType == .content)
        #expect(routing.path == "/eventType")
        #expect(routing.destinations.map(\.output) == ["meeting-events", "quality-events", "other-events"])
        #expect(routing.destinations.map(\.matchValue) == ["meeting.started", "quality.report", "*"])
        #expect(routing.destinations[0].partition == .preserve)
        #expect(routing.destinations[0].description == "Meeting lifecycle events")
        #expect(routing.destinations[1].errorPolicy == .skipAndLog)
        #expect(routing.destinations[2].errorPolicy == .dlq)
        #expect(routing.destinations[2].timestamp == "PRESERVE")
        #expect(routing.destinations.allSatisfy { $0.isPureMirror })
    }

    @Test func newStreamForgeKeysLoadToTheirModelFields() throws {
        let analysis = try load("streamforge-keys.yaml")
        let config = try #require(analysis.config)
        // The one setting accepted for compatibility but not acted on says so.
        #expect(analysis.diagnostics.warnings.map(\.keyPath) == ["dlq.max_dlq_retries"], "\(analysis.diagnostics.rendered)")
        #expect(config.workers == 3)
        #expect(!config.staticMembership)
        #expect(config.delivery == .atMostOnce)
        #expect(config.offset == .error)
        #expect(config.controlSocket == "/run/streamforge/audit.sock")
        #expect(config.observability == ObservabilityConfig(statsIntervalSeconds: 30, metricsListen: "127.0.0.1:9464"))
        #expect(config.compression == "lz4")
        #expect(config.sourceSecurity.map(\.key) == ["security.protocol", "ssl.ca.location"])
        #expect(config.targetSecurity.map(\.value) == ["sasl_plaintext", "PLAIN", "writer", "target-pass"])
        // The security block is kept apart; the worker applies it before the user's own properties.
        #expect(config.consumerProperties.map(\.key) == ["queued.max.messages.kbytes"])
        #expect(config.commitStrategy == CommitStrategy(commitIntervalMs: 1000, commitMode: .sync))
        #expect(config.retry == RetryConfig(maxAttempts: 5, initialBackoffMs: 200, maxBackoffMs: 10000, multiplier: 3, jitter: 0.2))
        #expect(config.dlq == DLQConfig(enabled: true, topic: "audit-dlq", includeErrorHeaders: false, maxDlqRetries: 7))
        #expect(config.cache == CacheConfig(maxCapacity: 500, ttlSeconds: 60))
    }

    @Test func jsonAndYamlOfTheSameSettingsGiveEqualModels() throws {
        let json = #"{"appid": "a", "bootstrap": "b:9092", "input": "x,y", "output": "z", "threads": 3, "workers": 2}"#
        let yaml = "appid: a\nbootstrap: b:9092\ninput: x, y\noutput: z\nthreads: 3\nworkers: 2\n"
        let fromJSON = try ConfigLoader.parse(text: json, path: "c.json", environment: [:])
        let fromYAML = try ConfigLoader.parse(text: yaml, path: "c.yaml", environment: [:])
        #expect(fromJSON.input == .topics(["x", "y"]))
        var normalized = fromYAML
        normalized.sourcePath = fromJSON.sourcePath
        #expect(fromJSON == normalized)
    }

    @Test func theOlderToolsDefaultsApplyWhenKeysAreAbsent() throws {
        let config = try ConfigLoader.parse(text: "appid: a\nbootstrap: b:9092\ninput: x\noutput: y\n", path: "c.yaml", environment: [:])
        #expect(config.offset == .latest)
        #expect(config.threads == 4)
        // The one deliberate difference: a commit every second (the older tool: 5 s), so a
        // crashed or killed worker's successor reads fewer records again.
        #expect(config.commitStrategy.commitIntervalMs == 1000)
        #expect(config.retry == RetryConfig())
        #expect(config.compression == nil)
        #expect(config.targetBroker == nil)
        #expect(config.observability.metricsListen == "127.0.0.1:9464", "metrics on loopback unless turned off")
        #expect(config.controlSocket == "/run/streamforge/control.sock")
    }

    @Test func metricsCanBeTurnedOffOrMoved() throws {
        let base = "appid: a\nbootstrap: b:9092\ninput: x\noutput: y\n"
        for off in ["off", "false", "\"off\""] {
            let config = try ConfigLoader.parse(text: base + "metrics: \(off)\n", path: "c.yaml", environment: [:])
            #expect(config.observability.metricsListen == nil, "metrics: \(off)")
        }
        let moved = try ConfigLoader.parse(text: base + "metrics: '[::]:9100'\n", path: "c.yaml", environment: [:])
        #expect(moved.observability.metricsListen == "[::]:9100")
        let supervision = try ConfigLoader.parse(text: base + "restart_backoff_max: 2m\nworker_timeout: 7\nstall_timeout: 30s\nexit_after_unhealthy: 10m\n",
                                                 path: "c.yaml", environment: [:]).supervision
        #expect(supervision == SupervisionConfig(restartBackoffMaxSeconds: 120, workerTimeoutSeconds: 7, stallTimeoutSeconds: 30,
                                                 exitAfterUnhealthySeconds: 600))
        #expect(throws: (any Error).self) {
            try ConfigLoader.parse(text: base + "worker_timeout: 1\n", path: "c.yaml", environment: [:])
        }
    }

    @Test func disablingTheDLQMakesTheDefaultErrorPolicyFail() throws {
        let yaml = """
            appid: a
            bootstrap: b:9092
            target_broker: t:9092
            input: x
            dlq: {enabled: false}
            routing:
              destinations:
                - output: y
            """
        let config = try ConfigLoader.parse(text: yaml, path: "c.yaml", environment: [:])
        #expect(config.destinations[0].errorPolicy == .fail)
        #expect(config.dlq.topic == nil)
    }

    @Test func everyKeyOfTheOlderToolIsAccepted() {
        let name = "every-tool-key.yaml"
        let analysis = ConfigLoader.analyze(text: Golden.text("compat", name), path: name, environment: [:])
        let unknown = analysis.diagnostics.diagnostics.filter { $0.message.hasPrefix("unknown key") }
        #expect(unknown.isEmpty, "\(unknown.map(\.description))")
        // What remains are features that are known but not available yet, each named as such.
        let others = analysis.diagnostics.errors.filter { !$0.message.contains("not supported yet") }
        #expect(others.isEmpty, "\(others.map(\.description))")
        // aggregation and oauthbearer_token; the language strings compile (the top-level
        // transform is only ignored: routing is set).
        #expect(analysis.diagnostics.errors.count == 2, "\(analysis.diagnostics.errors.map(\.description))")
    }
}
