// streamforgectl: drives a running streamforged over its control socket (DESIGN.md §6).
// A library, so that the installed package ships one binary: `streamforged` runs these
// commands when it is started as `streamforgectl` (a symlink). It never depends on the worker
// or the supervisor.
//
// Exit codes: 0 ok, 1 refused or failed, 69 daemon unreachable (EX_UNAVAILABLE), 75 daemon busy
// (EX_TEMPFAIL: every control connection taken, try again), 64 usage.
// Commands parse arguments and call the library; the protocol and the socket client live in
// StreamForgeIPC.

public import ArgumentParser
import StreamForgeCore
import StreamForgeLanguage
import StreamForgeIPC
#if canImport(Glibc)
import Glibc
#endif

public struct StreamForgeCtl: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "streamforgectl",
        abstract: "Control a running streamforged.",
        discussion: """
            Talks to streamforged over its control socket (default \(ControlClient.defaultSocketPath), \
            or $\(ControlClient.socketEnvironmentVariable)). Exit status: 0 ok, 1 refused or failed, \
            69 daemon unreachable, 75 daemon busy (try again), 64 usage error.
            """,
        version: StreamForgeVersion.current,
        subcommands: [
            Status.self, Top.self, Scale.self, Autoscale.self, Reload.self, Drain.self, Stop.self, Pause.self, Resume.self,
            // Offline commands: no daemon needed.
            CheckConfig.self, DryRunCommand.self, TestCommand.self,
        ]
    )

    /// `--socket PATH` and `--timeout N` may also come before the subcommand
    /// (`streamforgectl --socket /tmp/x.sock status`): argument-parser hands options parsed here
    /// to a subcommand that declares the same group. Hidden: each daemon command lists them.
    @OptionGroup(visibility: .hidden) var daemon: DaemonOptions
}

/// Options every daemon command shares.
struct DaemonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path of the control socket.", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the reply.", valueName: "seconds"))
    var timeout: Int = 30

    var socketPath: String {
        if let socket { return socket }
        if let value = getenv(ControlClient.socketEnvironmentVariable), value.pointee != 0 {
            return String(decoding: UnsafeRawBufferPointer(start: value, count: strlen(value)), as: UTF8.self)
        }
        var environment: [String: String] = [:]
        if let runtime = getenv("XDG_RUNTIME_DIR") { environment["XDG_RUNTIME_DIR"] = String(cString: runtime) }
        return ControlSocketLocation.clientDefault(environment: environment)
    }

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
    }
}

enum ExitStatus {
    static let refused = ArgumentParser.ExitCode(.failure)
    static let unavailable = ArgumentParser.ExitCode(.unavailable)
    static let busy = ArgumentParser.ExitCode(.temporary)
}

/// Sends `command`, prints the outcome, maps it to the exit code.
func run(_ command: ControlCommand, options: DaemonOptions, json: Bool = false) throws {
    let reply: ControlReply
    do {
        reply = try ControlClient.request(command, socketPath: options.socketPath, timeout: .seconds(options.timeout))
    } catch {
        printError("streamforgectl: \(error)")
        switch error {
        case .unreachable: throw ExitStatus.unavailable
        case .protocolError: throw ExitStatus.refused
        case .busy: throw ExitStatus.busy
        }
    }
    if json {
        print(String(decoding: LineCodec.encode(reply).dropLast(), as: UTF8.self))
        if !reply.ok { throw ExitStatus.refused }
        return
    }
    guard reply.ok else {
        printError("streamforgectl: \(command.name) refused: \(reply.error ?? "unknown error")")
        throw ExitStatus.refused
    }
    switch reply.result {
    case .status(let report)?: print(report.renderText(), terminator: "")
    case .message(let text)?: print(text)
    case nil: break
    }
}

func printError(_ text: String) {
    var line = text
    if !line.hasSuffix("\n") { line += "\n" }
    let bytes = Array(line.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the daemon, every worker and the group totals.")
    @OptionGroup var options: DaemonOptions
    @Flag(name: .long, help: "Print the reply as JSON.") var json = false
    func run() throws { try StreamForgeCtlMain.run(.status, options: options, json: json) }
}

struct Scale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run N workers: start new ones, or drain the highest slots.",
        discussion: "Not persisted: a reload or restart applies the configuration's `workers` again.")
    @Argument(help: ArgumentHelp("Number of worker processes.", valueName: "N")) var workers: Int
    @OptionGroup var options: DaemonOptions
    func validate() throws {
        guard (0...ControlCommand.maxWorkers).contains(workers) else {
            throw ValidationError("N must be between 0 and \(ControlCommand.maxWorkers)")
        }
    }
    func run() throws { try StreamForgeCtlMain.run(.scale(workers: workers), options: options) }
}

struct Autoscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn autoscaling by lag on again (after a manual scale) or off.",
        discussion: "Needs an 'autoscale' block in the configuration. A manual 'scale' turns it off.")
    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }
    @Argument(help: "on or off.") var state: Switch
    @OptionGroup var options: DaemonOptions
    func run() throws { try StreamForgeCtlMain.run(.autoscale(enabled: state == .on), options: options) }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-read the configuration; if it is valid, restart the workers one at a time.")
    @OptionGroup var options: DaemonOptions
    func run() throws { try StreamForgeCtlMain.run(.reload, options: options) }
}

struct Drain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drain every worker (finish in-flight records, commit) and stop the daemon.")
    @OptionGroup var options: DaemonOptions
    func run() throws { try StreamForgeCtlMain.run(.drain, options: options) }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Same as drain.")
    @OptionGroup var options: DaemonOptions
    func run() throws { try StreamForgeCtlMain.run(.stop, options: options) }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop fetching in every worker (assignments are kept).")
    @OptionGroup var options: DaemonOptions
    func run() throws { try StreamForgeCtlMain.run(.pause, options: options) }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fetch again after pause.")
    @OptionGroup var options: DaemonOptions
    func run() throws { try StreamForgeCtlMain.run(.resume, options: options) }
}

/// Namespaced so that the commands' own `run()` does not shadow it.
enum StreamForgeCtlMain {
    static func run(_ command: ControlCommand, options: DaemonOptions, json: Bool = false) throws {
        try StreamForgeControl.run(command, options: options, json: json)
    }
}
