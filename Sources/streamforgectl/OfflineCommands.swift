// Commands that need no daemon: they load the configuration with the same code as
// streamforged and, for dry-run, run records through the same compiled pipeline.

import ArgumentParser
import Foundation
import StreamForgeCore
import StreamForgeWorker

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
        let result = ConfigCheck.runWithClientProperties(path: ConfigLoader.resolvePath(explicit: config ?? file, environment: env), environment: env)
        if result.exitCode == 0 { print(result.output, terminator: result.output.hasSuffix("\n") ? "" : "\n") } else { printError(result.output) }
        throw ExitCode(result.exitCode)
    }
}

struct DryRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dry-run",
        abstract: "Show what each destination would produce for sample records.",
        discussion: """
            Reads records as JSON lines from FILE or stdin: either an object with "value" and \
            optional "key", "headers", "timestamp", "topic", "partition", or any other JSON \
            value, taken as the record's value. For each record it prints which destinations \
            receive it and the exact key, value, headers and timestamp they would get, or the \
            error and the policy that applies. See docs/dsl.md.
            """)

    @Option(name: .long, help: "Configuration file. Default: $CONFIG_FILE, else /etc/streamforge/config.json.")
    var config: String?

    @Argument(help: "JSON-lines file of records (default: stdin).")
    var input: String?

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let path = ConfigLoader.resolvePath(explicit: config, environment: env)
        let loaded: StreamForgeConfig
        do {
            loaded = try ConfigLoader.load(path: path, environment: env)
        } catch {
            printError(error.rendered)
            throw ExitCode(78)
        }
        let routing = loaded.routing ?? RoutingConfig(destinations: loaded.destinations)
        let pipeline: Pipeline
        do {
            pipeline = try Pipeline(routing: routing)
        } catch {
            printError("\(error)")
            throw ExitCode(78)
        }
        let text: String
        if let input {
            do {
                text = try String(contentsOfFile: input, encoding: .utf8)
            } catch {
                printError("streamforgectl: unable to read \(input): \(error.localizedDescription)")
                throw ExitCode(66)
            }
        } else {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        print(DryRun.run(pipeline: pipeline, routing: routing, input: lines), terminator: "")
    }
}
