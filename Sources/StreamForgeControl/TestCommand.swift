// `streamforgectl test FILE...`: the test cases kept next to a configuration, run through the
// same compiled pipeline as the daemon; a diff per mismatch, exit 1 on any.

import ArgumentParser
import FoundationEssentials
import StreamForgeCore
import StreamForgeLanguage

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run test cases (records in, expected output per destination) against a configuration.",
        discussion: """
            Each FILE (YAML, or JSON) holds cases:

              config: orders.yaml          # relative to FILE; --config overrides it
              partitions: 6                # optional: partitions of every target topic
              tests:
                - name: big orders are reshaped and keyed by id
                  input: {value: {id: o1, amount: 150}, key: k1}
                  expect:
                    premium: {key: o1, value: {id: o1, amount: 150}, partition: 3}
                    calc: {error: transform, policy: dlq}
                    archive: filtered

            'input' is a record as dry-run reads one (a value, or an envelope with value or \
            value_raw, key, headers, timestamp, topic, partition, offset); 'inputs' is a list \
            of records run in order, with 'expect' a list of one entry per record. A \
            destination (named by its output) expects 'filtered', {error: KIND} (with optional \
            policy and a message substring), or the members of the record it produces that \
            should be compared: topic, partition, key, value (JSON; members in any order, \
            numbers by value), value_raw, headers, timestamp. Destinations a case does not \
            name are not checked.

            Prints 'ok' or 'FAIL' per case with the differences, and a total. Exit status: 0 \
            when every case passes; 1 when one does not; 65 for a malformed test file; 66 when \
            a file cannot be read; 78 for an invalid configuration. See docs/dsl.md.
            """)

    @Argument(help: "Test files.")
    var files: [String]

    @Option(name: .long, help: "Configuration file (default: the test file's 'config', else $CONFIG_FILE, else /etc/streamforge/config.json).")
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Partition count of every target topic, when the test file does not give one (default: unknown; partitions are then not compared).", valueName: "N"))
    var partitions: Int32?

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one test file") }
        if let partitions, partitions < 1 { throw ValidationError("--partitions must be at least 1") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        var failed = false
        for path in files {
            let text = try readSampleText(path)
            let file: TestFile
            switch TestFile.parse(text: text, path: path) {
            case .success(let f): file = f
            case .failure(let problems):
                printError(problems.rendered)
                throw ArgumentParser.ExitCode(.dataError)
            }
            let configPath = ConfigLoader.resolvePath(explicit: config ?? file.configPath, environment: env)
            let loaded = try loadConfigForOfflineCommand(configPath, environment: env)
            let partitions = self.partitions
            let results: [TestCaseResult]
            do {
                switch try TestRunner.run(file, config: loaded, now: Int64(Date().timeIntervalSince1970 * 1000),
                                          partitionCount: { _ in partitions }) {
                case .success(let r): results = r
                case .failure(let problems):
                    printError(problems.rendered)
                    throw ArgumentParser.ExitCode(.dataError)
                }
            } catch let error as DSLCompileErrors {
                printError("\(error)")
                throw ArgumentParser.ExitCode(.config)
            }
            print(TestRunner.report(results, file: path), terminator: "")
            if results.contains(where: { !$0.passed }) { failed = true }
        }
        if failed { throw ArgumentParser.ExitCode(.failure) }
    }
}
