// `streamforgectl dry-run`: sample records through the configuration's compiled pipeline, as
// text or as one JSON object per record for CI.

import ArgumentParser
import FoundationEssentials
import StreamForgeCore
import StreamForgeLanguage

struct DryRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dry-run",
        abstract: "Show what each destination would produce for sample records.",
        discussion: """
            Reads one record per line (JSON lines) from FILE or stdin; blank lines and lines \
            starting with # are skipped. A line is either the record's value (any JSON), or an \
            envelope: an object with "value" (JSON, null for a tombstone) or "value_raw" (the \
            value's bytes as a string, JSON or not), and optionally:

              "key"        a string, null, or other JSON (its compact text)
              "headers"    {"h": "v"} or [["h", "v"], ...]; order, duplicates kept
              "timestamp"  epoch ms          default: now (--timestamp)
              "topic"      source topic      default: first input topic (--topic)
              "partition"  source partition  default: 0
              "offset"     source offset     default: the record's number - 1

            Any other member beside "value" is an error (did you mean ...?); to use an object \
            with a "value" member as the value itself, wrap it: {"value": {"value": 1}}.

            Example (records.jsonl):
              {"id": "o1", "amount": 150}
              {"value": {"id": "o2"}, "key": "o2", "headers": {"x-tenant": "acme"}}
              {"value_raw": "not json", "topic": "orders", "partition": 3}
              {"value": null, "key": "o1"}

            For each record and destination: filtered, the record it would produce (topic, \
            partition, key, value, headers, timestamp), or the error and its error policy. \
            Partition numbers need the target topic's partition count: --partitions N, or the \
            target cluster's metadata when it is reachable (not with --offline). Then a summary \
            line (on stderr with --json).

            Exit status: 0; 1 with --fail-on-error when a record would go to an error policy; \
            65 when a line cannot be read as a record; 66 when FILE cannot be read; 78 for an \
            invalid configuration. See docs/dsl.md.
            """)

    @Option(name: .long, help: "Configuration file. Default: $CONFIG_FILE, else /etc/streamforge/config.json.")
    var config: String?

    @Argument(help: "JSON-lines file of records (default: stdin).")
    var input: String?

    @Flag(name: .long, help: "Print one JSON object per record: {\"record\", \"line\", \"input\", \"destinations\": {<output>: {...}}}.")
    var json = false

    @Flag(name: .long, help: "Exit 1 when any record would go to its destination's error policy.")
    var failOnError = false

    @Option(name: .long, help: ArgumentHelp("Partition count of every target topic (default: read from the target cluster).", valueName: "N"))
    var partitions: Int32?

    @Flag(name: .long, help: "Do not contact the target cluster for partition counts.")
    var offline = false

    @Option(name: .long, help: ArgumentHelp("Source topic of records that do not name one (default: the config's first input topic).", valueName: "topic"))
    var topic: String?

    @Option(name: .long, help: ArgumentHelp("Timestamp of records that do not give one, in epoch milliseconds (default: now).", valueName: "ms"))
    var timestamp: Int64?

    func validate() throws {
        if let partitions, partitions < 1 { throw ValidationError("--partitions must be at least 1") }
        if let timestamp, timestamp < 0 { throw ValidationError("--timestamp must not be negative") }
        if let topic, topic.isEmpty { throw ValidationError("--topic must not be empty") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let loaded = try loadConfigForOfflineCommand(ConfigLoader.resolvePath(explicit: config, environment: env), environment: env)
        var defaults = DryRunRecord.Defaults(config: loaded, now: Int64(Date().timeIntervalSince1970 * 1000))
        if let topic { defaults.topic = topic }
        if let timestamp { defaults.timestamp = timestamp }
        let counts: (String) -> Int32?
        if let partitions {
            counts = { _ in partitions }
        } else if offline {
            counts = { _ in nil }
        } else {
            let target = TargetPartitions(config: loaded, timeoutSeconds: 5)
            counts = { target.count(of: $0) }
        }
        let dryRun: DryRun
        do {
            dryRun = try DryRun(config: loaded, defaults: defaults, partitionCount: counts)
        } catch {
            printError("\(error)")
            throw ArgumentParser.ExitCode(.config)
        }
        let text = try readSampleText(input)
        var summary = DryRunSummary(destinations: dryRun.names.count)
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let outcome = dryRun.run(line: String(line), lineNumber: n + 1) else { continue }
            summary.add(outcome)
            if json {
                print(DryRunReport.json(outcome, names: dryRun.names))
            } else {
                print(DryRunReport.text(outcome, names: dryRun.names), terminator: "")
            }
        }
        let line = DryRunReport.summaryLine(summary, names: dryRun.names)
        if json { printError(line) } else { print(line) }
        if summary.unreadable > 0 { throw ArgumentParser.ExitCode(.dataError) }
        if failOnError && summary.errors > 0 { throw ArgumentParser.ExitCode(.failure) }
    }
}
