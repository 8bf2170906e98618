public import Foundation

/// Where the built executables are: $STREAMFORGE_BIN_DIR (set by `make test`), else the
/// folder of the running test bundle (`.build/debug`).
public func binaryPath(_ name: String) -> String {
    if let dir = ProcessInfo.processInfo.environment["STREAMFORGE_BIN_DIR"] { return dir + "/" + name }
    var url = URL(fileURLWithPath: CommandLine.arguments[0])
    while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path) {
        url.deleteLastPathComponent()
    }
    return url.appendingPathComponent(name).path
}

/// A child process whose output is kept in a file (readable while it runs).
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    public let logPath: String
    private let input = Pipe()

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], logPath: String) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        process.standardInput = input
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends a line to the child's stdin.
    public func send(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    public func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits for exit up to `timeout`; returns the exit status or nil if still running.
    @discardableResult
    public func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// Waits until the output contains `text`.
    public func waitForOutput(_ text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return true }
            usleep(50_000)
        }
        return false
    }
}

/// `streamforge-devbroker` running for one test.
public final class DevBrokerProcess: @unchecked Sendable {
    public let child: ChildProcess
    public let bootstrap: String

    public init(topics: [String], partitions: Int = 4, brokers: Int = 1, directory: String) throws {
        let bsFile = directory + "/bootstrap"
        child = try ChildProcess(binaryPath("streamforge-devbroker"),
                                 ["--brokers", "\(brokers)", "--partitions", "\(partitions)", "--bootstrap-file", bsFile]
                                    + topics.flatMap { ["--topic", $0] },
                                 logPath: directory + "/devbroker.log")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: bsFile, encoding: .utf8), text.hasSuffix("\n") {
                bootstrap = text.trimmingCharacters(in: .whitespacesAndNewlines)
                return
            }
            usleep(20_000)
        }
        child.stop()
        throw TestFailure("devbroker did not start: \(child.output)")
    }

    /// Sends a fault-injection command (see `streamforge-devbroker --help`).
    public func command(_ line: String) { child.send(line) }

    deinit { child.stop() }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh short directory under /tmp (Unix socket paths must stay short).
public func makeTempDirectory() -> String {
    var template = Array("/tmp/sfx-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    return path
}
