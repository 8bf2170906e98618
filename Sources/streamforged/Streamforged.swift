#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import Logging
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import StreamForgeWorker
import KafkaBridge
import StreamForgeControl

@main
struct Streamforged: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamforged",
        abstract: "StreamForge: selective replication for Kafka.",
        version: StreamForgeVersion.current,
        subcommands: [Supervise.self, Run.self, CheckConfig.self, WorkerCommand.self],
        defaultSubcommand: Supervise.self)

    /// Started as `streamforgectl` (the package's symlink to this binary), it is the control
    /// tool: one binary on disk instead of two copies of the Swift runtime and Foundation.
    static func main() {
        let invokedAs = CommandLine.arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
        if invokedAs == "streamforgectl" {
            StreamForgeCtl.main()
        } else {
            main(nil)
        }
    }
}

/// Flags shared by the commands that load a configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (JSON or YAML). Default: $CONFIG_FILE, else /etc/streamforge/config.json.")
    var config: String?

    @Option(name: .long, help: "Source (and, without target_broker, target) bootstrap servers, overriding the file.")
    var brokers: String?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var path: String { ConfigLoader.resolvePath(explicit: config, environment: environment) }

    /// Loads and validates the configuration; exits 78 with every problem on failure.
    /// `logWarnings`: log what the file loads with but should change (the supervisor and `run`
    /// do; workers, which load the same file, do not repeat it).
    func load(logWarnings: Bool = false) throws -> StreamForgeConfig {
        let analysis = ConfigLoader.analyze(path: path, environment: environment)
        guard var loaded = analysis.config, !analysis.diagnostics.hasErrors else {
            writeAll(2, analysis.diagnostics.rendered + "\n")
            throw ArgumentParser.ExitCode(.config)
        }
        if logWarnings {
            let logger = Logger(label: "streamforged")
            for warning in analysis.diagnostics.warnings {
                // One line per event: the located message; `check-config` shows the excerpt.
                let headline = warning.description.split(separator: "\n").first.map(String.init) ?? ""
                logger.warning("configuration: \(headline)")
            }
        }
        // The target follows the source unless the file names its own target_broker.
        if let brokers { loaded.bootstrap = brokers }
        let problems = ClientProperties.problems(loaded, check: librdkafkaPropertyProblems)
        if !problems.isEmpty {
            writeAll(2, problems.joined(separator: "\n") + "\n")
            throw ArgumentParser.ExitCode(.config)
        }
        return loaded
    }
}

/// The daemon: spawns and supervises the workers.
struct Supervise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise",
        abstract: "Run the supervisor and its workers (the default).")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Worker processes, overriding `workers` in the file.")
    var workers: Int?

    @Option(help: "Control socket path, overriding `control_socket` in the file.")
    var controlSocket: String?

    @Option(help: "Seconds a stop waits for workers to drain before killing them (keep it below the unit's TimeoutStopSec).")
    var stopTimeout: Int = 20

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if stopTimeout < 1 { throw ValidationError("--stop-timeout must be at least 1") }
    }

    func run() throws {
        Logs.bootstrap(environment: options.environment)
        let config = try options.load(logWarnings: true)
        let code = runSupervisor(configPath: options.path, config: config, brokersOverride: options.brokers,
                                 workersOverride: workers, controlSocketOverride: controlSocket,
                                 stopTimeoutSeconds: stopTimeout)
        throw ArgumentParser.ExitCode(code)
    }
}

/// One worker in the foreground, without a supervisor (debugging and benchmarks).
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a single worker in the foreground, without the supervisor.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Drain and exit after this many records completed.")
    var exitAfterRecords: UInt64?

    func run() throws {
        Logs.bootstrap(environment: options.environment)
        let config = try options.load(logWarnings: true)
        throw ArgumentParser.ExitCode(runWorker(config: config, slot: 0, exitAfterRecords: exitAfterRecords, link: nil))
    }
}

/// A worker process, spawned by the supervisor.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run one worker (spawned by the supervisor).",
        shouldDisplay: false)

    @OptionGroup var options: ConfigOptions

    @Option(help: "The worker's slot number.")
    var slot: Int = 0

    @Option(help: "Drain and exit after this many records completed.")
    var exitAfterRecords: UInt64?

    func run() throws {
        let link = SupervisorLink.fromEnvironment()
        if link != nil { armParentDeathSignal() }
        Logs.bootstrap(environment: options.environment)
        let config = try options.load()
        throw ArgumentParser.ExitCode(runWorker(config: config, slot: slot, exitAfterRecords: exitAfterRecords, link: link))
    }
}

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
        let path = ConfigLoader.resolvePath(explicit: config ?? file, environment: env)
        // A structurally valid file may still carry librdkafka properties it would refuse.
        let result = ConfigCheck.runWithClientProperties(path: path, environment: env, check: librdkafkaPropertyProblems)
        writeAll(result.exitCode == 0 ? 1 : 2, result.output.hasSuffix("\n") ? result.output : result.output + "\n")
        throw ArgumentParser.ExitCode(result.exitCode)
    }
}

func runWorker(config: StreamForgeConfig, slot: Int, exitAfterRecords: UInt64?, link: SupervisorLink?) -> Int32 {
    if link != nil { ProcessTitle.set("streamforged: worker \(slot) [\(config.appid)]") }
    installStopSignalHandlers()
    let control = WorkerControl()
    link?.startReading { command in
        switch command {
        case .drain: control.requestDrain()
        case .leave: control.requestLeave()
        case .pause: control.setPaused(true)
        case .resume: control.setPaused(false)
        }
    }
    let logger = Logger(label: "streamforged.worker")
    do {
        let options = WorkerOptions(slot: slot, hostname: config.hostId ?? WorkerOptions.currentHostname(),
                                    exitAfterRecords: exitAfterRecords)
        let worker = try Worker(config: config, options: options,
                                control: control, link: link, logger: logger)
        return worker.run()
    } catch {
        logger.error("unable to start the worker", metadata: ["error": "\(error)"])
        return ExitCode.config.rawValue
    }
}

/// Writes all of `text` to descriptor `fd` (stdout 1, stderr 2), unbuffered.
func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        bytes = bytes.dropFirst(n)
    }
}
