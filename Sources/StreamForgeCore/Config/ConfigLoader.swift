// Builds a `StreamForgeConfig` from a JSON or YAML file and reports every problem at once, each
// at its line and column. Keys follow the existing StreamForge (Rust) tool so that its files load
// unchanged; docs/configuration.md is the reference for every key.

import StreamForgeLanguage
import FoundationEssentials

/// What a load found: the configuration (nil when there is an error) and every diagnostic,
/// warnings included, in file order.
public struct ConfigAnalysis: Sendable {
    public var config: StreamForgeConfig?
    public var diagnostics: ConfigDiagnostics
}

public enum ConfigLoader {
    /// The packaged configuration file.
    public static let defaultPath = "/etc/streamforge/config.json"

    /// The file to load: `--config` (`explicit`), else `$CONFIG_FILE`, else `defaultPath`.
    public static func resolvePath(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["CONFIG_FILE"], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath
    }

    /// Reads and validates the file at `path`. JSON or YAML by extension (`.json`; `.yaml` or
    /// `.yml`); any other extension is read as YAML, which also reads JSON.
    /// Throws every problem at once; warnings alone do not throw.
    public static func load(path: String, environment: [String: String]) throws(ConfigDiagnostics) -> StreamForgeConfig {
        let analysis = analyze(path: path, environment: environment)
        guard let config = analysis.config else { throw analysis.diagnostics }
        return config
    }

    /// Validates `text` as if read from `path` (the extension picks the format; `path` is also
    /// the file name in diagnostics and the base of relative `${file:...}` paths).
    public static func parse(text: String, path: String, environment: [String: String]) throws(ConfigDiagnostics) -> StreamForgeConfig {
        let analysis = analyze(text: text, path: path, environment: environment)
        guard let config = analysis.config else { throw analysis.diagnostics }
        return config
    }

    /// Like `load`, but returns the warnings of a valid file too.
    public static func analyze(path: String, environment: [String: String]) -> ConfigAnalysis {
        switch ConfigTextFiles.read(path) {
        case .success(let text):
            return analyze(text: text, path: path, environment: environment)
        case .failure(let problem):
            let diagnostic = Diagnostic(file: path, line: 0, column: 0, keyPath: "",
                                        message: "unable to read config \(path): \(problem.reason)")
            return ConfigAnalysis(config: nil, diagnostics: ConfigDiagnostics(diagnostics: [diagnostic]))
        }
    }

    /// Like `parse`, but returns the warnings of a valid file too.
    public static func analyze(text: String, path: String, environment: [String: String]) -> ConfigAnalysis {
        analyze(text: text, path: path, environment: environment, readFile: ConfigTextFiles.read)
    }

    static func analyze(text: String, path: String, environment: [String: String],
                        readFile: @escaping TextFileReader) -> ConfigAnalysis {
        let format = DocumentFormat.detect(path: path, text: text)
        let context = LoadContext(file: path, text: text, environment: environment, readFile: readFile)
        var config: StreamForgeConfig?
        switch DocumentParser.parse(text: text, format: format, file: path) {
        case .failure(let diagnostic):
            context.report(.error, line: diagnostic.line, column: diagnostic.column, diagnostic.keyPath,
                           diagnostic.message, hint: diagnostic.hint)
        case .empty:
            context.report(.error, line: 1, column: 1, "", "the file is empty",
                           hint: "a configuration needs at least 'appid', 'bootstrap', 'input' and 'output'")
        case .document(let root):
            var reader = RootReader(context: context)
            config = reader.read(root)
        }
        let sorted = context.diagnostics.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
        let diagnostics = ConfigDiagnostics(diagnostics: sorted)
        return ConfigAnalysis(config: diagnostics.hasErrors ? nil : config.map { var c = $0; c.sourcePath = path; return c },
                              diagnostics: diagnostics)
    }

    // MARK: - The language strings

    /// A string in the filter/transform language, with what it is for.
    struct LanguageString {
        enum Kind {
            case filter, transform, keyTransform, header, headerTransform, timestamp, partitionField

            /// What the string is, as the subject of "... not supported yet".
            var phrase: String {
                switch self {
                case .filter: return "filters are"
                case .transform: return "value transforms are"
                case .keyTransform: return "key transforms are"
                case .header: return "static headers are"
                case .headerTransform: return "header transforms are"
                case .timestamp: return "timestamp transforms are"
                case .partitionField: return "partitioning by a payload field is"
                }
            }

            /// The key to remove to do without it.
            var key: String {
                switch self {
                case .filter: return "filter"
                case .transform: return "transform"
                case .keyTransform: return "key_transform"
                case .header: return "headers"
                case .headerTransform: return "header_transforms"
                case .timestamp: return "timestamp"
                case .partitionField: return "partition"
                }
            }
        }

        var kind: Kind
        var text: LocatedString
    }

    /// THE place where every string of the filter/transform language is checked at load time:
    /// each is compiled exactly as the worker will compile it, and an error is reported at the
    /// column inside the string (quotes and escapes of the file accounted for).
    static func validateLanguageStrings(_ strings: [LanguageString], context: LoadContext) {
        let checker = LanguageChecker()
        for string in strings {
            let kind: LanguageChecker.Kind
            switch string.kind {
            case .filter: kind = .filter
            case .transform: kind = .transform
            case .keyTransform: kind = .keyTransform
            case .header: continue
            case .headerTransform: kind = .headerOperation
            case .timestamp: kind = .timestamp
            case .partitionField: kind = .partitionField
            }
            let (problem, warnings) = checker.check(string.text.value, as: kind)
            for warning in warnings {
                report(.warning, warning, in: string.text, context: context)
            }
            guard let problem else { continue }
            report(.error, problem, in: string.text, context: context)
        }
    }

    /// Reports a problem inside a language string at its line and column in the file, with the
    /// string and a caret under the problem.
    static func report(_ severity: Diagnostic.Severity, _ problem: DSLError, in text: LocatedString, context: LoadContext) {
        let source = text.value
        // DSLError offsets count UTF-8 bytes; locations count Unicode scalars.
        let bytes = Array(source.utf8)
        let scalarOffset = String(decoding: bytes[0..<min(max(problem.offset, 0), bytes.count)], as: UTF8.self)
            .unicodeScalars.count
        let location = text.location(ofScalarOffset: scalarOffset)
        context.report(severity, line: location.line, column: location.column, text.keyPath,
                       "\(problem.message)\n    \(problem.caret(in: source).replacingOccurrences(of: "\n", with: "\n    "))",
                       hint: problem.hint)
    }
}

// MARK: - Reading the document

/// Keys of the existing tool's documents and examples that it silently ignores, with where the
/// setting lives here. Those that only tune or describe are warned about and ignored, so the
/// files load unchanged; those whose silent loss would change what runs (the consumer group,
/// security, commits) stay errors, with the hint.
private let legacyRootErrors: [String: String] = [
    "group_id": "the consumer group id is 'appid'",
    "commit_interval_ms": "did you mean 'commit_strategy.commit_interval_ms'?",
    "kafka": "security settings go in 'security' (protocol, ssl, sasl)",
]

private let legacyRootHints: [String: String] = [
    "performance": "tuning goes in 'consumer_properties' / 'producer_properties' with librdkafka names (fetch.min.bytes, linger.ms, ...)",
    "partitioner_type": "choose the partition per destination: 'partition: /json/pointer' or 'partition: preserve'",
    "partitioner_field": "choose the partition per destination: 'partition: /json/pointer'",
    "error_handling": "retries are 'retry', dead letters 'dlq', and each destination has an 'error_policy'",
]

private let legacyDestinationHints: [String: String] = [
    "partitioning": "write 'partition: preserve' or 'partition: /json/pointer'; absent = murmur2 of the key",
    "partition_field": "write 'partition: /json/pointer'",
    "preserve_timestamp": "timestamps are preserved by default; 'timestamp: PRESERVE' says so explicitly",
    "name": "use 'description' to label a destination",
    "timestamp_transform": "the destination's timestamp is 'timestamp: PRESERVE|CURRENT|FROM:/path|ADD:secs|SUBTRACT:secs'",
    "cache_lookup": "look values up with 'transform: CACHE_LOOKUP:/key,store,outField'",
]

/// Keys that belong to a destination, written at the top level: where they go. (`transform` and
/// `partition` are keys of the single `output` destination too.)
private let destinationOnlyKeyHints: [String: String] = {
    var hints: [String: String] = [:]
    for key in ["filter", "key_transform", "headers", "header_transforms", "timestamp", "error_policy",
                "match_value", "description", "broadcast", "aggregation"] {
        hints[key] = "'\(key)' belongs to a destination: write it in 'routing.destinations[]', next to that destination's 'output'"
    }
    return hints
}()

private let rootKeys = [
    "appid", "bootstrap", "target_broker", "input", "output", "transform", "partition", "offset", "threads",
    "consumer_properties", "producer_properties", "compression", "security", "source_security",
    "target_security", "commit_strategy", "routing", "retry", "dlq", "observability", "cache",
    "workers", "static_membership", "delivery", "control_socket", "metrics", "stats_interval",
    "restart_backoff_max", "worker_timeout", "stall_timeout", "exit_after_unhealthy", "host_id", "autoscale",
]

private let destinationKeys = [
    "output", "match_value", "filter", "transform", "error_policy", "key_transform", "headers",
    "header_transforms", "timestamp", "aggregation", "partition", "broadcast", "description",
]

private struct RootReader {
    let context: LoadContext
    var languageStrings: [ConfigLoader.LanguageString] = []

    init(context: LoadContext) {
        self.context = context
    }

    mutating func read(_ root: ConfigNode) -> StreamForgeConfig? {
        guard case .mapping = root.kind else {
            context.error(root, "", "expected a mapping of configuration keys at the top level, found \(root.typeDescription)")
            return nil
        }
        guard let fields = context.mapping(root, "", allowed: rootKeys, hints: legacyRootErrors.merging(destinationOnlyKeyHints) { a, _ in a },
                                           ignored: legacyRootHints, extensionPrefix: "x-") else { return nil }
        let c = context

        let appid = c.required(fields, "appid").flatMap { c.nonEmptyString($0, "appid") }
        let bootstrap = c.required(fields, "bootstrap").flatMap { readBootstrap($0, "bootstrap") }
        let targetBroker = fields["target_broker"].flatMap { readBootstrap($0, "target_broker") }
        let input = c.required(fields, "input").flatMap { readInput($0) }
        let output = fields["output"].flatMap { readTopic($0, "output") }
        var topLocations: [String: LocatedString] = [:]
        var transform: String?
        if let node = fields["transform"], let text = c.located(node, "transform") {
            transform = text.value
            topLocations["transform"] = text
            languageStrings.append(.init(kind: .transform, text: text))
        }

        // The single destination's partitioner, as the existing tool's guides write it next to `output`.
        var partition = PartitionSpec.keyHash
        if let node = fields["partition"], let (spec, text) = readPartition(node, "partition") {
            partition = spec
            topLocations["partition"] = text
        }

        var config = StreamForgeConfig(appid: appid ?? "", bootstrap: bootstrap ?? "", input: input ?? .topics([]))
        config.targetBroker = targetBroker
        config.output = output
        config.transform = transform
        config.partition = partition
        config.locations = topLocations

        if let node = fields["offset"], let offset = c.choice(node, "offset", [
            ("earliest", OffsetReset.earliest), ("latest", .latest), ("error", .error),
            ("smallest", .earliest), ("beginning", .earliest), ("largest", .latest), ("end", .latest),
        ]) { config.offset = offset }
        if let node = fields["threads"], let threads = c.int(node, "threads", min: 1, max: 1024) { config.threads = threads }
        if let node = fields["workers"] { config.workers = readWorkers(node) }
        if let node = fields["static_membership"], let flag = c.bool(node, "static_membership") { config.staticMembership = flag }
        if let node = fields["delivery"], let delivery = c.choice(node, "delivery", [
            ("at-least-once", DeliveryGuarantee.atLeastOnce), ("at-most-once", .atMostOnce),
        ], unsupported: ["exactly-once": "use 'at-least-once' (the default)"]) { config.delivery = delivery }
        if let node = fields["control_socket"], let socket = readControlSocket(node) { config.controlSocket = socket }
        if let node = fields["compression"] { config.compression = readCompression(node, "compression") }

        // Security: `security` applies to both clusters; `source_security` / `target_security`
        // replace it for one side.
        let shared = fields["security"].flatMap { readSecurity($0, "security") } ?? []
        let source = fields["source_security"].flatMap { readSecurity($0, "source_security") }
        let target = fields["target_security"].flatMap { readSecurity($0, "target_security") }
        config.sourceSecurity = source ?? shared
        config.targetSecurity = target ?? shared
        func origins(_ client: String, _ properties: [(key: String, value: String)], from key: String) {
            guard let node = fields[key] else { return }
            for p in properties {
                config.propertyOrigins[StreamForgeConfig.propertyKey(client, p.key)] =
                    PropertyOrigin(keyPath: key, location: SourceLocation(file: context.file, line: node.line, column: node.column))
            }
        }
        origins("consumer", config.sourceSecurity, from: source != nil ? "source_security" : "security")
        origins("producer", config.targetSecurity, from: target != nil ? "target_security" : "security")
        if let codec = config.compression { origins("producer", [("compression.codec", codec)], from: "compression") }
        let consumer = fields["consumer_properties"].map { readProperties($0, "consumer_properties", into: &config) } ?? []
        let producer = fields["producer_properties"].map { readProperties($0, "producer_properties", into: &config) } ?? []
        config.consumerProperties = consumer
        config.producerProperties = producer

        var retryFromCommitStrategy: RetryConfig?
        var dlqFromCommitStrategy: (enabled: Bool?, topic: String?) = (nil, nil)
        if let node = fields["commit_strategy"] {
            (config.commitStrategy, retryFromCommitStrategy, dlqFromCommitStrategy) = readCommitStrategy(node)
        }
        let retryNode = fields["retry"]
        config.retry = retryNode.map(readRetry) ?? retryFromCommitStrategy ?? RetryConfig()
        let dlqNode = fields["dlq"]
        var dlq = dlqNode.map(readDLQ) ?? DLQConfig()
        if dlqNode == nil {
            if let enabled = dlqFromCommitStrategy.enabled { dlq.enabled = enabled }
            if let topic = dlqFromCommitStrategy.topic { dlq.topic = topic }
        }
        if dlq.enabled, dlq.topic == nil { dlq.topic = DLQConfig.defaultTopic }
        config.dlq = dlq

        // Observability: the older tool's `observability` block, then our `metrics` and
        // `stats_interval` keys.
        var observability = ObservabilityConfig()
        var metricsFromObservability: (node: ConfigNode, listen: String?)?
        if let node = fields["observability"] {
            metricsFromObservability = (node, readObservability(node))
            observability.metricsListen = metricsFromObservability?.listen
        }
        if let node = fields["metrics"] {
            let listen = readMetricsListen(node)
            observability.metricsListen = listen
            if listen != nil {
                if let previous = metricsFromObservability, previous.listen != nil {
                    c.error(node, "metrics", "the metrics endpoint is also set by 'observability.metrics_port'",
                            hint: "keep one of 'metrics' and 'observability.metrics_*'")
                    _ = previous
                }
            }
        }
        if let node = fields["stats_interval"], let seconds = readSeconds(node, "stats_interval") {
            observability.statsIntervalSeconds = seconds
        }
        config.observability = observability

        var supervision = SupervisionConfig()
        if let node = fields["restart_backoff_max"], let seconds = readSeconds(node, "restart_backoff_max") {
            supervision.restartBackoffMaxSeconds = seconds
        }
        if let node = fields["worker_timeout"], let seconds = readSeconds(node, "worker_timeout") {
            if seconds < 2 {
                c.error(node, "worker_timeout", "must be at least 2 seconds: workers report once a second",
                        hint: "the default is 5; keep it below the consumer's session.timeout.ms")
            } else {
                supervision.workerTimeoutSeconds = seconds
            }
        }
        if let node = fields["stall_timeout"], let seconds = readSeconds(node, "stall_timeout") {
            supervision.stallTimeoutSeconds = seconds
        }
        if let node = fields["exit_after_unhealthy"], let seconds = readSeconds(node, "exit_after_unhealthy") {
            supervision.exitAfterUnhealthySeconds = seconds
        }
        config.supervision = supervision
        if let node = fields["autoscale"] { config.autoscale = readAutoscale(node) }
        if let node = fields["host_id"], let id = c.nonEmptyString(node, "host_id") {
            if id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
                config.hostId = id
            } else {
                c.error(node, "host_id", "'\(id)' may hold only letters, digits, '-', '_' and '.'",
                        hint: "it becomes part of group.instance.id")
            }
        }

        if let node = fields["cache"] { config.cache = readCache(node) }

        if let node = fields["routing"] {
            config.routing = readRouting(node, dlqEnabled: dlq.enabled)
            if let outputNode = fields["output"] {
                c.warning(outputNode, "output", "ignored because 'routing' is set",
                          hint: "add it to 'routing.destinations' or remove it")
            }
            if let transformNode = fields["transform"] {
                c.warning(transformNode, "transform", "ignored because 'routing' is set",
                          hint: "set 'transform' on each destination instead")
                languageStrings.removeAll { $0.text.keyPath == "transform" }
            }
            if let partitionNode = fields["partition"] {
                c.warning(partitionNode, "partition", "ignored because 'routing' is set",
                          hint: "set 'partition' on each destination instead")
                languageStrings.removeAll { $0.text.keyPath == "partition" }
            }
        } else if output == nil, !fields.has("output") {
            c.error(root, "", "missing required key 'output' (or 'routing.destinations')",
                    hint: "'output' names the target topic; 'routing.destinations' lists several")
        }

        checkRoutingLoops(config, fields: fields)
        ConfigLoader.validateLanguageStrings(languageStrings, context: c)
        return config
    }

    // MARK: Clusters and topics

    func readBootstrap(_ node: ConfigNode, _ path: String) -> String? {
        guard let text = context.nonEmptyString(node, path) else { return nil }
        let servers = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for server in servers {
            if server.isEmpty {
                context.error(node, path, "empty broker address in '\(text)'", hint: "separate brokers with one comma: 'host1:9092,host2:9092'")
                return nil
            }
            if server.contains(where: { $0.isWhitespace }) {
                context.error(node, path, "invalid broker address '\(server)'", hint: "separate brokers with commas: 'host1:9092,host2:9092'")
                return nil
            }
            if let colon = server.lastIndex(of: ":"), !server.hasSuffix("]"), !server[..<colon].contains(":") || server.hasPrefix("[") {
                let port = server[server.index(after: colon)...]
                if !port.allSatisfy({ $0.isASCII && $0.isNumber }) || port.isEmpty || (Int(port) ?? 0) < 1 || (Int(port) ?? 0) > 65535 {
                    context.error(node, path, "invalid port in broker address '\(server)'", hint: "a port is a number from 1 to 65535")
                    return nil
                }
            }
        }
        return servers.joined(separator: ",")
    }

    func readInput(_ node: ConfigNode) -> InputSpec? {
        guard let text = context.nonEmptyString(node, "input") else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("^") {
            do {
                _ = try Regex(trimmed)
            } catch {
                context.error(node, "input", "invalid topic regex '\(trimmed)'",
                              hint: "a value that starts with '^' is a regular expression over topic names")
                return nil
            }
            return .pattern(trimmed)
        }
        var topics: [String] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let topic = part.trimmingCharacters(in: .whitespaces)
            if topic.isEmpty {
                context.error(node, "input", "empty topic name in '\(trimmed)'", hint: "separate topics with one comma: 'orders,payments'")
                return nil
            }
            if let problem = Self.topicProblem(topic) {
                context.error(node, "input", "invalid topic name '\(topic)': \(problem)",
                              hint: topic.contains("*") ? "subscribe to a pattern with a regex that starts with '^', such as '^orders\\..*'" : nil)
                return nil
            }
            topics.append(topic)
        }
        return .topics(topics)
    }

    /// An output topic, which may contain `{source_topic}`.
    func readTopic(_ node: ConfigNode, _ path: String) -> String? {
        guard let text = context.nonEmptyString(node, path) else { return nil }
        let withoutTemplate = text.replacingOccurrences(of: "{source_topic}", with: "x")
        if let problem = Self.topicProblem(withoutTemplate) {
            context.error(node, path, "invalid topic name '\(text)': \(problem)",
                          hint: text.contains("{") ? "the only placeholder is '{source_topic}'" : nil)
            return nil
        }
        return text
    }

    static func topicProblem(_ topic: String) -> String? {
        if topic == "." || topic == ".." { return "'.' and '..' are not topic names" }
        if topic.count > 249 { return "longer than 249 characters" }
        if let bad = topic.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-")) }) {
            return "'\(bad)' is not allowed (letters, digits, '.', '_' and '-' are)"
        }
        return nil
    }

    // MARK: Processes and endpoints

    func readWorkers(_ node: ConfigNode) -> Int? {
        if case .scalar(let scalar) = node.kind, scalar.text.lowercased() == "auto" { return nil }
        return context.int(node, "workers", min: 1, max: 1024)
    }

    func readControlSocket(_ node: ConfigNode) -> String? {
        guard let path = context.nonEmptyString(node, "control_socket") else { return nil }
        if !path.hasPrefix("/") {
            context.error(node, "control_socket", "must be an absolute path, found '\(path)'",
                          hint: "the default is /run/streamforge/control.sock")
            return nil
        }
        if path.utf8.count > 107 {
            context.error(node, "control_socket", "path is \(path.utf8.count) bytes; a Unix socket path holds at most 107")
            return nil
        }
        return path
    }

    func readMetricsListen(_ node: ConfigNode) -> String? {
        if case .mapping = node.kind {
            context.error(node, "metrics", "expected a listen address such as '127.0.0.1:9090', found a mapping",
                          hint: "the older tool's metrics settings are 'observability.metrics_enabled' and 'observability.metrics_port'")
            return nil
        }
        if case .scalar(let scalar) = node.kind, !scalar.isQuoted, ["false", "off", "no"].contains(scalar.text.lowercased()) {
            return nil
        }
        guard let text = context.nonEmptyString(node, "metrics") else { return nil }
        let listen = text.trimmingCharacters(in: .whitespaces)
        if listen.lowercased() == "off" { return nil }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (1...65535).contains(port) else {
            context.error(node, "metrics", "invalid listen address '\(listen)'",
                          hint: "write host:port, such as '127.0.0.1:9090', '0.0.0.0:9090' or '[::]:9090'")
            return nil
        }
        return listen
    }

    /// Seconds: an integer, or a string with a unit (`500ms` rounds up, `10s`, `2m`).
    func readSeconds(_ node: ConfigNode, _ path: String) -> Int? {
        guard case .scalar(let scalar) = node.kind, scalar.isQuoted || ScalarSyntax.int(scalar.text) == nil else {
            return context.int(node, path, min: 1, max: 86_400)
        }
        guard let text = context.string(node, path) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = ScalarSyntax.int(trimmed) {
            return context.checkRange(seconds, node, path, min: 1, max: 86_400)
        }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        if let (suffix, factor) = units.first(where: { trimmed.hasSuffix($0.0) }),
           let number = Double(trimmed.dropLast(suffix.count)), number > 0 {
            return context.checkRange(max(1, Int((number * factor).rounded(.up))), node, path, min: 1, max: 86_400)
        }
        context.error(node, path, "invalid duration '\(trimmed)'", hint: "write seconds as a number (10) or with a unit: '10s', '1m'")
        return nil
    }

    func readAutoscale(_ node: ConfigNode) -> AutoscaleConfig? {
        guard let f = context.mapping(node, "autoscale", allowed: [
            "min", "max", "scale_up_lag", "scale_down_lag", "for", "cooldown",
        ]) else { return nil }
        guard let maxNode = f["max"] else {
            context.error(node, "autoscale", "missing required key 'max'", hint: "the most workers this host may run, e.g. 'max: 8'")
            return nil
        }
        guard let max = context.int(maxNode, f.path("max"), min: 1, max: 1024) else { return nil }
        var a = AutoscaleConfig(max: max)
        if let n = f["min"], let v = context.int(n, f.path("min"), min: 1, max: 1024) {
            if v > max { context.error(n, f.path("min"), "min (\(v)) is above max (\(max))") } else { a.min = v }
        }
        if let n = f["scale_up_lag"], let v = context.int(n, f.path("scale_up_lag"), min: 1) { a.scaleUpLag = Int64(v) }
        if let n = f["scale_down_lag"], let v = context.int(n, f.path("scale_down_lag"), min: 0) { a.scaleDownLag = Int64(v) }
        if a.scaleDownLag >= a.scaleUpLag, let n = f["scale_down_lag"] ?? f["scale_up_lag"] {
            context.error(n, f.path("scale_down_lag"), "scale_down_lag (\(a.scaleDownLag)) must be below scale_up_lag (\(a.scaleUpLag))",
                          hint: "otherwise the same lag would add and remove workers")
        }
        if let n = f["for"], let v = readSeconds(n, f.path("for")) { a.forSeconds = v }
        if let n = f["cooldown"], let v = readSeconds(n, f.path("cooldown")) { a.cooldownSeconds = v }
        return a
    }

    func readObservability(_ node: ConfigNode) -> String? {
        guard let f = context.mapping(node, "observability", allowed: [
            "metrics_enabled", "metrics_port", "metrics_path", "lag_monitoring_enabled", "lag_monitoring_interval_secs",
        ]) else { return nil }
        let enabled = f["metrics_enabled"].flatMap { context.bool($0, f.path("metrics_enabled")) } ?? true
        let port = f["metrics_port"].flatMap { context.int($0, f.path("metrics_port"), min: 1, max: 65535) } ?? 9090
        if let pathNode = f["metrics_path"], let path = context.string(pathNode, f.path("metrics_path")), path != "/metrics" {
            context.error(pathNode, f.path("metrics_path"), "only '/metrics' is served, found '\(path)'")
        }
        if let n = f["lag_monitoring_enabled"] { _ = context.bool(n, f.path("lag_monitoring_enabled")) }
        if let n = f["lag_monitoring_interval_secs"] { _ = context.int(n, f.path("lag_monitoring_interval_secs"), min: 1) }
        return enabled ? "0.0.0.0:\(port)" : nil
    }

    // MARK: librdkafka properties

    func readProperties(_ node: ConfigNode, _ path: String, into config: inout StreamForgeConfig) -> [(key: String, value: String)] {
        guard let f = context.mapping(node, path, allowed: nil) else { return [] }
        var properties: [(key: String, value: String)] = []
        for entry in f.entries {
            let keyPath = f.path(entry.key)
            guard let value = context.propertyValue(entry.value, keyPath) else { continue }
            if let problem = Self.ownedProperties[entry.key] {
                // Files written for the existing tool often set these (e.g. enable.auto.commit:
                // false); they keep loading, and StreamForge's own value is used.
                context.warning(entry.keyNode, keyPath, "'\(entry.key)' is ignored: StreamForge sets it", hint: problem)
                continue
            }
            if let hint = Self.javaClientProperties[entry.key] {
                // The existing tool's examples set some; librdkafka would refuse them.
                context.warning(entry.keyNode, keyPath, "'\(entry.key)' is a Java client setting that librdkafka does not have; ignored", hint: hint)
                continue
            }
            properties.append((entry.key, value))
            config.propertyOrigins[StreamForgeConfig.propertyKey(path == "consumer_properties" ? "consumer" : "producer", entry.key)] =
                PropertyOrigin(keyPath: keyPath, location: SourceLocation(file: context.file, line: entry.keyNode.line, column: entry.keyNode.column))
        }
        return properties
    }

    /// Java client properties seen in Kafka configurations (and in the existing tool's examples)
    /// that librdkafka does not know, with what does the job here.
    static let javaClientProperties: [String: String] = [
        "max.poll.records": "records are handed over one at a time from librdkafka's prefetch queue (queued.max.messages.kbytes bounds it)",
        "fetch.max.wait.ms": "librdkafka's name is fetch.wait.max.ms",
        "buffer.memory": "librdkafka's producer queue is bounded by queue.buffering.max.kbytes",
        "key.deserializer": "records are bytes; the language reads JSON values",
        "value.deserializer": "records are bytes; the language reads JSON values",
        "key.serializer": "records are bytes",
        "value.serializer": "records are bytes",
    ]

    /// librdkafka properties whose value StreamForge decides, because its guarantees rest on them.
    static let ownedProperties: [String: String] = [
        "group.id": "the consumer group id is 'appid'",
        "bootstrap.servers": "set 'bootstrap' (source) or 'target_broker' (target)",
        "enable.auto.offset.store": "offsets are stored only after every destination acknowledged the record",
        "enable.auto.commit": "offsets are committed on 'commit_strategy.commit_interval_ms'; choose 'delivery' for the guarantee",
        "group.instance.id": "it is '<appid>-<hostname>-<slot>' (see 'static_membership')",
    ]

    // MARK: Compression

    func readCompression(_ node: ConfigNode, _ path: String) -> String? {
        let codecs: [(String, String?)] = [("none", nil), ("gzip", "gzip"), ("snappy", "snappy"), ("lz4", "lz4"), ("zstd", "zstd")]
        if case .scalar = node.kind {
            return context.choice(node, path, codecs) ?? nil
        }
        guard let f = context.mapping(node, path, allowed: ["compression_type", "compression_algo"]) else { return nil }
        let type = f["compression_type"].flatMap {
            context.choice($0, f.path("compression_type"), [("none", "none"), ("raw", "raw")],
                           unsupported: ["enveloped": "use 'raw' (Kafka's own batch compression)"])
        } ?? (f.has("compression_type") ? nil : "none")
        let algo = f["compression_algo"].flatMap {
            context.choice($0, f.path("compression_algo"), Array(codecs.dropFirst()))
        } ?? (f.has("compression_algo") ? nil : "gzip")
        if type == "none", let algoNode = f["compression_algo"] {
            context.warning(algoNode, f.path("compression_algo"), "ignored because 'compression_type' is 'none'",
                            hint: "set 'compression_type: raw' to compress with it")
        }
        return type == "raw" ? algo ?? nil : nil
    }

    // MARK: Security

    /// A security block as librdkafka properties, or nil after an error.
    func readSecurity(_ node: ConfigNode, _ path: String) -> [(key: String, value: String)]? {
        guard let f = context.mapping(node, path, allowed: ["protocol", "ssl", "sasl"]) else { return nil }
        let c = context
        let errorsBefore = c.diagnostics.count
        var properties: [(key: String, value: String)] = []
        let protocolNode = c.required(f, "protocol", hint: "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
        let proto = protocolNode.flatMap {
            c.choice($0, f.path("protocol"), [("PLAINTEXT", "plaintext"), ("SSL", "ssl"),
                                              ("SASL_PLAINTEXT", "sasl_plaintext"), ("SASL_SSL", "sasl_ssl")])
        }
        if let proto { properties.append(("security.protocol", proto)) }

        if let sslNode = f["ssl"], let ssl = c.mapping(sslNode, f.path("ssl"), allowed: [
            "ca_location", "certificate_location", "key_location", "key_password", "endpoint_identification_algorithm",
        ]) {
            for (key, property) in [("ca_location", "ssl.ca.location"), ("certificate_location", "ssl.certificate.location"),
                                    ("key_location", "ssl.key.location"), ("key_password", "ssl.key.password")] {
                if let n = ssl[key], let value = c.nonEmptyString(n, ssl.path(key)) { properties.append((property, value)) }
            }
            if let n = ssl["endpoint_identification_algorithm"],
               let value = c.choice(n, ssl.path("endpoint_identification_algorithm"), [("https", "https"), ("none", "none")]) {
                properties.append(("ssl.endpoint.identification.algorithm", value))
            }
            if let proto, !proto.hasSuffix("ssl") {
                c.error(sslNode, ssl.path, "'ssl' settings need protocol SSL or SASL_SSL, but protocol is \(proto.uppercased())")
            }
        }

        if let saslNode = f["sasl"], let sasl = c.mapping(saslNode, f.path("sasl"), allowed: [
            "mechanism", "username", "password", "kerberos_service_name", "kerberos_principal", "kerberos_keytab", "oauthbearer_token",
        ]) {
            let mechanism = c.required(sasl, "mechanism", hint: "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER").flatMap {
                c.choice($0, sasl.path("mechanism"), [("PLAIN", "PLAIN"), ("SCRAM-SHA-256", "SCRAM-SHA-256"),
                                                      ("SCRAM-SHA-512", "SCRAM-SHA-512"), ("GSSAPI", "GSSAPI"),
                                                      ("OAUTHBEARER", "OAUTHBEARER")])
            }
            if let mechanism { properties.append(("sasl.mechanism", mechanism)) }
            for (key, property) in [("username", "sasl.username"), ("password", "sasl.password"),
                                    ("kerberos_service_name", "sasl.kerberos.service.name"),
                                    ("kerberos_principal", "sasl.kerberos.principal"), ("kerberos_keytab", "sasl.kerberos.keytab")] {
                if let n = sasl[key], let value = c.nonEmptyString(n, sasl.path(key)) { properties.append((property, value)) }
            }
            if let n = sasl["oauthbearer_token"] {
                c.error(n, sasl.path("oauthbearer_token"), "a static OAUTHBEARER token is not supported yet",
                        hint: "configure OIDC in consumer_properties/producer_properties (sasl.oauthbearer.method: oidc, ...)")
            }
            if let mechanism, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(mechanism) {
                for key in ["username", "password"] where !sasl.has(key) {
                    c.error(saslNode, sasl.path, "missing required key '\(key)' for mechanism \(mechanism)")
                }
            }
            if let proto, !proto.hasPrefix("sasl") {
                c.error(saslNode, sasl.path, "'sasl' settings need protocol SASL_PLAINTEXT or SASL_SSL, but protocol is \(proto.uppercased())")
            }
        } else if let proto, proto.hasPrefix("sasl"), !f.has("sasl") {
            c.error(f.node, f.path, "protocol \(proto.uppercased()) needs a 'sasl' block with at least 'mechanism'")
        }
        let failed = c.diagnostics[errorsBefore...].contains { $0.severity == .error }
        return failed ? nil : properties
    }

    // MARK: Commits, retries, DLQ

    func readCommitStrategy(_ node: ConfigNode) -> (CommitStrategy, RetryConfig?, (enabled: Bool?, topic: String?)) {
        var strategy = CommitStrategy()
        guard let f = context.mapping(node, "commit_strategy", allowed: [
            "manual_commit", "commit_mode", "commit_interval_ms", "enable_dlq", "dlq_topic", "max_retries", "retry_backoff",
        ]) else { return (strategy, nil, (nil, nil)) }
        let c = context
        if let n = f["manual_commit"], let manual = c.bool(n, f.path("manual_commit")), !manual {
            c.warning(n, f.path("manual_commit"), "auto-commit is not used: offsets are committed only after delivery",
                      hint: "set 'delivery: at-most-once' to commit before producing")
        }
        if let n = f["commit_mode"], let mode = c.choice(n, f.path("commit_mode"), [("async", CommitMode.async), ("sync", .sync)]) {
            strategy.commitMode = mode
        }
        if let n = f["commit_interval_ms"], let ms = c.int(n, f.path("commit_interval_ms"), min: 1, max: 3_600_000) {
            strategy.commitIntervalMs = ms
        }
        var dlq: (enabled: Bool?, topic: String?) = (nil, nil)
        if let n = f["enable_dlq"] { dlq.enabled = c.bool(n, f.path("enable_dlq")) }
        if let n = f["dlq_topic"] { dlq.topic = readTopic(n, f.path("dlq_topic")) }
        var retry: RetryConfig?
        if let n = f["max_retries"], let attempts = c.int(n, f.path("max_retries"), min: 0, max: 1000) {
            retry = RetryConfig(maxAttempts: attempts)
        }
        if let n = f["retry_backoff"], let b = c.mapping(n, f.path("retry_backoff"), allowed: [
            "initial_backoff_ms", "max_backoff_ms", "multiplier",
        ]) {
            var r = retry ?? RetryConfig()
            if let v = b["initial_backoff_ms"], let ms = c.int(v, b.path("initial_backoff_ms"), min: 0) { r.initialBackoffMs = ms }
            if let v = b["max_backoff_ms"], let ms = c.int(v, b.path("max_backoff_ms"), min: 0) { r.maxBackoffMs = ms }
            if let v = b["multiplier"], let m = c.double(v, b.path("multiplier"), min: 1) { r.multiplier = m }
            checkBackoff(r, b.node, b.path)
            retry = r
        }
        return (strategy, retry, dlq)
    }

    func readRetry(_ node: ConfigNode) -> RetryConfig {
        var retry = RetryConfig()
        guard let f = context.mapping(node, "retry", allowed: [
            "max_attempts", "initial_delay_ms", "max_delay_ms", "multiplier", "jitter",
        ]) else { return retry }
        let c = context
        if let n = f["max_attempts"], let v = c.int(n, f.path("max_attempts"), min: 0, max: 1000) { retry.maxAttempts = v }
        if let n = f["initial_delay_ms"], let v = c.int(n, f.path("initial_delay_ms"), min: 0) { retry.initialBackoffMs = v }
        if let n = f["max_delay_ms"], let v = c.int(n, f.path("max_delay_ms"), min: 0) { retry.maxBackoffMs = v }
        if let n = f["multiplier"], let v = c.double(n, f.path("multiplier"), min: 1) { retry.multiplier = v }
        if let n = f["jitter"] {
            if case .scalar(let s) = n.kind, !s.isQuoted, ScalarSyntax.bool(s.text) != nil {
                c.error(n, f.path("jitter"), "expected a fraction between 0 and 1, found a boolean", hint: "for example 'jitter: 0.1'")
            } else if let v = c.double(n, f.path("jitter"), min: 0, max: 1) {
                retry.jitter = v
            }
        }
        checkBackoff(retry, f.node, f.path)
        return retry
    }

    func checkBackoff(_ retry: RetryConfig, _ node: ConfigNode, _ path: String) {
        if retry.maxBackoffMs < retry.initialBackoffMs {
            context.error(node, path, "the maximum delay (\(retry.maxBackoffMs) ms) is below the initial delay (\(retry.initialBackoffMs) ms)")
        }
    }

    func readDLQ(_ node: ConfigNode) -> DLQConfig {
        var dlq = DLQConfig()
        guard let f = context.mapping(node, "dlq", allowed: [
            "enabled", "topic", "brokers", "include_original_headers", "include_error_headers", "include_stack_trace",
            "max_dlq_retries", "compression",
        ], hints: ["max_retries": "did you mean 'max_dlq_retries'?"]) else { return dlq }
        let c = context
        if let n = f["enabled"], let v = c.bool(n, f.path("enabled")) { dlq.enabled = v }
        if let n = f["topic"] { dlq.topic = readTopic(n, f.path("topic")) }
        if let n = f["brokers"] {
            dlq.brokers = readBootstrap(n, f.path("brokers"))
            c.warning(n, f.path("brokers"), "ignored: dead letters go to the target cluster with its security settings",
                      hint: "remove it, or point 'target_broker' at the cluster that should hold them")
        }
        if let n = f["include_original_headers"], let v = c.bool(n, f.path("include_original_headers")) { dlq.includeOriginalHeaders = v }
        if let n = f["include_error_headers"], let v = c.bool(n, f.path("include_error_headers")) { dlq.includeErrorHeaders = v }
        if let n = f["include_stack_trace"], let v = c.bool(n, f.path("include_stack_trace")) {
            dlq.includeStackTrace = v
            if v { c.warning(n, f.path("include_stack_trace"), "ignored: there is no stack trace to include", hint: nil) }
        }
        if let n = f["max_dlq_retries"], let v = c.int(n, f.path("max_dlq_retries"), min: 0, max: 1000) {
            dlq.maxDlqRetries = v
            c.warning(n, f.path("max_dlq_retries"), "ignored: a dead letter is retried until delivered, like every record",
                      hint: "a delivery that fails for good stops the worker instead of losing the record")
        }
        if let n = f["compression"] {
            dlq.compression = readCompression(n, f.path("compression"))
            c.warning(n, f.path("compression"), "ignored: dead letters use the target producer's 'compression'", hint: nil)
        }
        return dlq
    }

    // MARK: Cache

    func readCache(_ node: ConfigNode) -> CacheConfig? {
        guard let f = context.mapping(node, "cache", allowed: ["backend_type", "local", "redis", "kafka"], hints: [
            "type": "did you mean 'backend_type'?",
            "max_entries": "write 'local: {max_capacity: N}'",
            "ttl_seconds": "write 'local: {ttl_seconds: N}'",
            "enabled": "a 'cache' block enables the cache; remove the block to disable it",
        ]) else { return nil }
        let c = context
        let unsupported = "only the in-process 'local' cache is available"
        let backend = c.required(f, "backend_type", hint: "'local'").flatMap {
            c.choice($0, f.path("backend_type"), [("local", "local")],
                     unsupported: ["redis": unsupported, "kafka": unsupported, "multi": unsupported])
        }
        var cache = CacheConfig()
        if let n = f["local"], let l = c.mapping(n, f.path("local"), allowed: ["max_capacity", "ttl_seconds", "tti_seconds"]) {
            if let v = l["max_capacity"], let cap = c.int(v, l.path("max_capacity"), min: 1) { cache.maxCapacity = cap }
            if let v = l["ttl_seconds"] { cache.ttlSeconds = c.int(v, l.path("ttl_seconds"), min: 1) }
            if let v = l["tti_seconds"] { cache.ttiSeconds = c.int(v, l.path("tti_seconds"), min: 1) }
        }
        // The other backends are not available, but their keys are still checked for typos.
        if let n = f["redis"], let r = c.mapping(n, f.path("redis"), allowed: ["url", "pool_size", "key_prefix", "default_ttl_seconds"]) {
            _ = r
        }
        if let n = f["kafka"], let k = c.mapping(n, f.path("kafka"), allowed: [
            "bootstrap", "topic", "group_id", "key_field", "value_field", "warmup_on_start",
        ]) { _ = k }
        return backend == nil ? nil : cache
    }

    // MARK: Routing

    mutating func readRouting(_ node: ConfigNode, dlqEnabled: Bool) -> RoutingConfig? {
        guard let f = context.mapping(node, "routing", allowed: ["routing_type", "path", "destinations"]) else { return nil }
        let c = context
        var routingType = RoutingType.filter
        if let n = f["routing_type"] {
            if case .scalar(let s) = n.kind, ["passthrough", "fanout"].contains(s.text.lowercased()) {
                c.warning(n, f.path("routing_type"), "'\(s.text)' is read as 'filter': every destination sees every record")
            } else if let type = c.choice(n, f.path("routing_type"), [("filter", RoutingType.filter), ("content", .content)],
                                          unsupported: ["hybrid": "use 'filter' with a filter per destination"]) {
                routingType = type
            }
        }
        var path: String?
        if let n = f["path"], let text = c.nonEmptyString(n, f.path("path")) {
            if !text.hasPrefix("/") {
                c.error(n, f.path("path"), "expected a JSON pointer such as '/eventType', found '\(text)'")
            } else {
                path = text
            }
        }
        guard let destinationsNode = c.required(f, "destinations") else { return nil }
        guard case .sequence(let items) = destinationsNode.kind else {
            c.error(destinationsNode, f.path("destinations"), "expected a list of destinations, found \(destinationsNode.typeDescription)")
            return nil
        }
        if items.isEmpty {
            c.error(destinationsNode, f.path("destinations"), "needs at least one destination")
        }
        if items.count > RoutingConfig.maxDestinations {
            c.error(destinationsNode, f.path("destinations"),
                    "\(items.count) destinations; at most \(RoutingConfig.maxDestinations) are supported per worker",
                    hint: "split the routing over several StreamForge instances with their own appid")
        }
        var destinations: [DestinationConfig] = []
        var defaultRoute: ConfigNode?
        for (i, item) in items.enumerated() {
            let destPath = ConfigKeyPath.index(f.path("destinations"), i)
            guard let (destination, matchNode) = readDestination(item, destPath, dlqEnabled: dlqEnabled) else { continue }
            if routingType == .content {
                // A destination without match_value sees every record (fan-out with its own
                // filter), as in the existing tool, which routes every content config that way.
                if destination.matchValue == nil, path != nil {
                    c.warning(item, destPath, "no 'match_value': this destination sees every record (its own filter applies)",
                              hint: "'*' receives only the records no other destination matched")
                }
                if destination.matchValue == "*", let matchNode {
                    if defaultRoute != nil {
                        c.error(matchNode, ConfigKeyPath.child(destPath, "match_value"), "a second default route '*'",
                                hint: "only one destination may have match_value '*'")
                    }
                    defaultRoute = matchNode
                }
            } else if let matchNode {
                c.warning(matchNode, ConfigKeyPath.child(destPath, "match_value"), "ignored because routing_type is not 'content'")
            }
            destinations.append(destination)
        }
        let matching = destinations.contains { $0.matchValue != nil }
        if routingType == .content, path == nil, !f.has("path") {
            if matching {
                c.error(f.node, f.path, "missing required key 'path' (routing_type is 'content')",
                        hint: "a JSON pointer to the field whose value picks the destination, such as '/eventType'")
            } else {
                // The existing tool's examples write this; with nothing to match, it is a fan-out.
                c.warning(f["routing_type"] ?? f.node, f.path("routing_type"),
                          "'content' without 'path' or any 'match_value' is read as 'filter': every destination sees every record")
                routingType = .filter
            }
        } else if routingType == .filter, let n = f["path"] {
            c.warning(n, f.path("path"), "ignored because routing_type is not 'content'")
        }
        return RoutingConfig(routingType: routingType, path: path, destinations: destinations)
    }

    mutating func readDestination(_ node: ConfigNode, _ path: String, dlqEnabled: Bool) -> (DestinationConfig, ConfigNode?)? {
        guard let f = context.mapping(node, path, allowed: destinationKeys, hints: ["topic": "did you mean 'output'?"], ignored: legacyDestinationHints) else { return nil }
        let c = context
        let output = c.required(f, "output").flatMap { readTopic($0, f.path("output")) }
        var destination = DestinationConfig(output: output ?? "")
        var locations: [String: LocatedString] = [:]

        func language(_ key: String, _ kind: ConfigLoader.LanguageString.Kind) -> String? {
            guard let n = f[key], let text = c.located(n, f.path(key)) else { return nil }
            locations[key] = text
            languageStrings.append(.init(kind: kind, text: text))
            return text.value
        }
        destination.filter = language("filter", .filter)
        destination.transform = language("transform", .transform)
        destination.keyTransform = language("key_transform", .keyTransform)

        if let n = f["headers"], let h = c.mapping(n, f.path("headers"), allowed: nil) {
            for entry in h.entries {
                let headerPath = h.path(entry.key)
                guard let value = c.propertyValue(entry.value, headerPath),
                      case .scalar = entry.value.kind else { continue }
                let text = c.located(entry.value, headerPath) ?? LocatedString(
                    value: value, location: SourceLocation(file: c.file, line: entry.value.line, column: entry.value.column),
                    keyPath: headerPath)
                destination.headers.append((entry.key, value))
                locations["headers.\(entry.key)"] = text
                languageStrings.append(.init(kind: .header, text: text))
            }
        }
        if let n = f["header_transforms"] {
            if case .sequence(let items) = n.kind {
                for (i, item) in items.enumerated() {
                    let itemPath = ConfigKeyPath.index(f.path("header_transforms"), i)
                    guard let h = c.mapping(item, itemPath, allowed: ["header", "operation"]) else { continue }
                    let header = c.required(h, "header").flatMap { c.nonEmptyString($0, h.path("header")) }
                    let operation = c.required(h, "operation").flatMap { c.located($0, h.path("operation")) }
                    if let header, let operation {
                        destination.headerTransforms.append(HeaderTransformSpec(header: header, operation: operation.value))
                        locations["header_transforms[\(i)].operation"] = operation
                        languageStrings.append(.init(kind: .headerTransform, text: operation))
                    }
                }
            } else {
                c.error(n, f.path("header_transforms"), "expected a list of {header, operation}, found \(n.typeDescription)")
            }
        }
        if let n = f["timestamp"], let text = c.located(n, f.path("timestamp")) {
            destination.timestamp = text.value
            locations["timestamp"] = text
            if text.value.trimmingCharacters(in: .whitespaces).uppercased() != "PRESERVE" {
                languageStrings.append(.init(kind: .timestamp, text: text))
            }
        }
        if let n = f["partition"], let (spec, text) = readPartition(n, f.path("partition")) {
            destination.partition = spec
            locations["partition"] = text
        }
        var explicitPolicy = false
        if let n = f["error_policy"], let policy = c.choice(n, f.path("error_policy"), [
            ("dlq", ErrorPolicy.dlq), ("skip_and_log", .skipAndLog), ("fail", .fail), ("continue", .skipAndLog),
        ]) {
            destination.errorPolicy = policy
            explicitPolicy = true
            if policy == .dlq, !dlqEnabled {
                c.error(n, f.path("error_policy"), "'dlq' needs the dead-letter queue, but 'dlq.enabled' is false",
                        hint: "enable the DLQ or choose 'skip_and_log' or 'fail'")
            }
        }
        if !explicitPolicy, !dlqEnabled { destination.errorPolicy = .fail }
        var matchNode: ConfigNode?
        if let n = f["match_value"], let value = c.string(n, f.path("match_value")) {
            destination.matchValue = value
            matchNode = n
        }
        if let n = f["description"] { destination.description = c.string(n, f.path("description")) }
        if let n = f["broadcast"], let flag = c.bool(n, f.path("broadcast")), flag {
            c.error(n, f.path("broadcast"), "'broadcast' belongs to hybrid routing, which is not supported yet",
                    hint: "with routing_type 'filter' every destination already sees every record")
        }
        if let n = f["aggregation"] {
            c.error(n, f.path("aggregation"), "aggregations are not supported yet")
        }
        destination.locations = locations
        return (destination, matchNode)
    }

    /// `partition`: `preserve`, or a JSON pointer whose field is hashed (checked with the
    /// language strings); nil after an error.
    mutating func readPartition(_ node: ConfigNode, _ path: String) -> (PartitionSpec, LocatedString)? {
        guard let text = context.located(node, path) else { return nil }
        let value = text.value.trimmingCharacters(in: .whitespaces)
        if value.lowercased() == "preserve" { return (.preserve, text) }
        if value.hasPrefix("/") {
            languageStrings.append(.init(kind: .partitionField, text: text))
            return (.field(value), text)
        }
        context.error(node, path, "invalid value '\(value)'",
                      hint: "write 'preserve' (keep the source partition) or a JSON pointer such as '/user/id'; leave it out to hash the key")
        return nil
    }

    // MARK: Whole-file checks

    /// A destination on the source cluster that writes to a topic it reads would replicate
    /// its own output forever.
    func checkRoutingLoops(_ config: StreamForgeConfig, fields: ConfigFields) {
        guard config.targetBroker == nil || config.targetBroker == config.bootstrap,
              case .topics(let inputs) = config.input else { return }
        let outputs = config.destinations.map(\.output)
        for (i, output) in outputs.enumerated() {
            let loops = output == "{source_topic}" || inputs.contains(output)
            guard loops else { continue }
            let path = config.routing != nil ? "routing.destinations[\(i)].output" : "output"
            let node: ConfigNode = {
                if config.routing == nil { return fields["output"] ?? fields.node }
                if let routing = fields["routing"], case .mapping(let pairs) = routing.kind,
                   let list = pairs.first(where: { if case .scalar(let s) = $0.key.kind { return s.text == "destinations" }; return false })?.value,
                   case .sequence(let items) = list.kind, i < items.count,
                   case .mapping(let destination) = items[i].kind,
                   let out = destination.first(where: { if case .scalar(let s) = $0.key.kind { return s.text == "output" }; return false }) {
                    return out.value
                }
                return fields.node
            }()
            context.error(node, path, "writes to '\(output)' on the cluster it reads from, which would replicate its own output",
                          hint: "set 'target_broker' to another cluster, or write to a topic that is not an input")
        }
    }
}
