import ArgumentParser
import Foundation  // Thread
import StreamForgeIPC
import KafkaBridge

/// Hosts librdkafka's mock cluster for the demo, the tests and the benchmarks.
@main
struct DevBroker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamforge-devbroker",
        abstract: "Run a Kafka-protocol development broker (librdkafka's mock cluster) on loopback.",
        discussion: """
            Prints the bootstrap address as the first line on stdout and runs until SIGTERM,
            SIGINT or a `quit` command. Commands (one per line, on stdin or the control socket):
              topic NAME PARTITIONS     create a topic
              down BROKER | up BROKER   take a broker (1-based id) down or bring it back
              latency BROKER MS         add round-trip latency to a broker
              error APIKEY COUNT CODE   fail the next COUNT requests of an API with a Kafka error code
              clear APIKEY              drop pending injected errors of an API
              topic-error NAME CODE     make a topic report an error in metadata (0 clears)
              quit                      stop
            Each command is answered with `ok` or `error: <reason>`.
            """)

    @Option(help: "Number of brokers in the cluster.")
    var brokers: Int32 = 1

    @Option(help: "Default partition count of the topics given with --topic.")
    var partitions: Int32 = 4

    @Option(name: .customLong("topic"), help: "Create a topic: NAME or NAME:PARTITIONS (repeatable).")
    var topics: [String] = []

    @Option(help: "Also write the bootstrap address to this file.")
    var bootstrapFile: String?

    @Option(help: "Accept commands on this Unix socket too.")
    var controlSocket: String?

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1") }
        guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1") }
    }

    func run() throws {
        let cluster = try MockCluster(brokers: brokers)
        for spec in topics {
            let parts = spec.split(separator: ":", maxSplits: 1)
            let count = parts.count == 2 ? Int32(parts[1]) : partitions
            guard let count, count > 0 else { throw ValidationError("bad --topic '\(spec)': expected NAME or NAME:PARTITIONS") }
            try cluster.createTopic(String(parts[0]), partitions: count)
        }
        if let bootstrapFile {
            try (cluster.bootstrap + "\n").write(toFile: bootstrapFile, atomically: true, encoding: .utf8)
        }
        emit(cluster.bootstrap)

        let controller = Controller(cluster: cluster)
        signal(SIGPIPE, SIG_IGN)
        if let controlSocket {
            try controller.listen(path: controlSocket)
        }
        let stdinThread = Thread {
            while let line = readLine() {
                let reply = controller.execute(line)
                emit(reply)
            }
        }
        stdinThread.start()

        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGTERM)
        sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        while !controller.quitRequested {
            var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            if sigtimedwait(&mask, nil, &timeout) > 0 { break }
        }
        if let controlSocket { unlink(controlSocket) }
        if let bootstrapFile { unlink(bootstrapFile) }
    }
}

/// Carries out commands from stdin and the control socket.
final class Controller: @unchecked Sendable {
    let cluster: MockCluster
    private let lock = NSLock()
    private var quit = false

    init(cluster: MockCluster) { self.cluster = cluster }

    var quitRequested: Bool { lock.withLock { quit } }

    func execute(_ line: String) -> String {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let command = words.first else { return "error: empty command" }
        func int(_ i: Int) -> Int32? { words.count > i ? Int32(words[i]) : nil }
        do {
            switch (command, words.count) {
            case ("topic", 3):
                guard let n = int(2), n > 0 else { return "error: usage: topic NAME PARTITIONS" }
                try cluster.createTopic(words[1], partitions: n)
            case ("down", 2):
                guard let b = int(1) else { return "error: usage: down BROKER" }
                try cluster.setBrokerDown(b)
            case ("up", 2):
                guard let b = int(1) else { return "error: usage: up BROKER" }
                try cluster.setBrokerUp(b)
            case ("latency", 3):
                guard let b = int(1), let ms = int(2) else { return "error: usage: latency BROKER MS" }
                try cluster.setBrokerLatency(b, milliseconds: ms)
            case ("error", 4):
                guard let api = int(1), let count = int(2), let code = int(3) else {
                    return "error: usage: error APIKEY COUNT CODE"
                }
                cluster.pushRequestErrors(apiKey: Int16(api), count: Int(count), errorCode: code)
            case ("clear", 2):
                guard let api = int(1) else { return "error: usage: clear APIKEY" }
                cluster.clearRequestErrors(apiKey: Int16(api))
            case ("topic-error", 3):
                guard let code = int(2) else { return "error: usage: topic-error NAME CODE" }
                cluster.setTopicError(words[1], errorCode: code)
            case ("quit", 1):
                lock.withLock { quit = true }
            default:
                return "error: unknown command or wrong arguments: \(line)"
            }
            return "ok"
        } catch {
            return "error: \(error)"
        }
    }

    /// Serves commands on a Unix stream socket, one connection at a time, one command per line.
    func listen(path: String) throws {
        let listener = try UnixSocket.listen(path: path, mode: 0o600)
        Thread {
            var poller = Poller()
            while true {
                poller.reset()
                poller.add(listener)
                poller.wait(timeout: nil)
                guard let client = UnixSocket.accept(listener) else { continue }
                self.serve(client)
                Posix.close(client)
            }
        }.start()
    }

    private func serve(_ fd: Int32) {
        var framer = LineFramer(maxFrameSize: LineFramer.defaultControlLimit)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var poller = Poller()
        while true {
            poller.reset()
            poller.add(fd)
            poller.wait(timeout: nil)
            switch Posix.read(fd, into: &buffer) {
            case .closed: return
            case .wouldBlock: continue
            case .data(let n):
                framer.append(buffer[..<n])
                while let line = try? framer.next() {
                    var reply = ArraySlice(Array((execute(String(decoding: line, as: UTF8.self)) + "\n").utf8))
                    while !reply.isEmpty {
                        guard let sent = Posix.sendSome(fd, reply) else { return }
                        reply = reply.dropFirst(sent)
                        if !reply.isEmpty {
                            poller.reset()
                            poller.add(fd, read: false, write: true)
                            poller.wait(timeout: nil)
                        }
                    }
                }
            }
        }
    }
}

/// Writes a line to stdout at once (no buffering: readers wait for it).
func emit(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}
