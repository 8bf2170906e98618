// Commands that need no daemon: they load the configuration with the same code as
// streamforged and, for dry-run, run records through the same compiled pipeline.

import ArgumentParser
import FoundationEssentials
import StreamForgeCore
import StreamForgeLanguage
import KafkaBridge

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and print every problem (exit 78 if any).")

    @Argument(help: "The file to check. Default: $CONFIG_FILE, else /etc/streamforge/config.json.")
    var file: String?

    @Option(name: .long, help: "The file to check (the same as the argument).")
    var config: String?

    func validate() throws {
        if let file, let config, file != config { throw ValidationError("give the file once: as an argument or with --config") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        // The same check as `streamforged check-config`, librdkafka's view of the properties included.
        let result = ConfigCheck.runWithClientProperties(path: ConfigLoader.resolvePath(explicit: config ?? file, environment: env), environment: env,
                                                         check: librdkafkaPropertyProblems)
        if result.exitCode == 0 { print(result.output, terminator: result.output.hasSuffix("\n") ? "" : "\n") } else { printError(result.output) }
        throw ArgumentParser.ExitCode(result.exitCode)
    }
}

/// Loads the configuration for an offline command as the daemon does: warnings are printed on
/// stderr, errors too, and then the command exits 78 (EX_CONFIG).
func loadConfigForOfflineCommand(_ path: String, environment: [String: String]) throws -> StreamForgeConfig {
    let analysis = ConfigLoader.analyze(path: path, environment: environment)
    if !analysis.diagnostics.diagnostics.isEmpty { printError(analysis.diagnostics.rendered) }
    guard let config = analysis.config else {
        let errors = analysis.diagnostics.errors.count
        printError("unable to load config \(path): \(errors) error\(errors == 1 ? "" : "s")")
        throw ArgumentParser.ExitCode(.config)
    }
    return config
}

/// The sample lines of FILE, or of stdin.
func readSampleText(_ file: String?) throws -> String {
    guard let file else {
        var text = ""
        while let line = readLine(strippingNewline: false) { text += line }
        return text
    }
    do {
        return try String(contentsOfFile: file, encoding: .utf8)
    } catch {
        printError("streamforgectl: unable to read \(file): \(error.localizedDescription)")
        throw ArgumentParser.ExitCode(.noInput)
    }
}

