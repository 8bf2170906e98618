// Helpers for system tests that drive the built binaries as an operator would: a datagram
// socket standing in for systemd's NOTIFY_SOCKET, commands run to completion, a raw Unix
// stream client, /proc liveness checks, a producer that keeps records flowing in the
// background, and a free loopback port.

#if canImport(Glibc)
import Glibc
#endif
public import Foundation
import KafkaBridge
import Synchronization

// MARK: - NOTIFY_SOCKET

/// An AF_UNIX datagram socket bound at `path`, read on its own thread: pass `path` as
/// `NOTIFY_SOCKET` and the child's sd_notify(3) messages arrive here, in order, each with the
/// time it was received.
public final class NotifySocket: Sendable {
    public struct Datagram: Sendable {
        public var received: Date
        public var text: String
        /// The `KEY=value` assignments of the datagram.
        public var assignments: [String] { text.split(separator: "\n").map(String.init) }
        public func contains(_ assignment: String) -> Bool { assignments.contains(assignment) }
        public func value(_ key: String) -> String? {
            assignments.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
    }

    public let path: String
    private let inbox: Inbox

    private final class Inbox: Sendable {
        let datagrams = Mutex<[Datagram]>([])
        let stopped = Atomic<Bool>(false)
        /// Called on the reader thread right after a datagram was stored.
        let observer: (@Sendable (Datagram) -> Void)?
        init(observer: (@Sendable (Datagram) -> Void)?) { self.observer = observer }
    }

    /// - Parameter observer: runs on the reader thread as each datagram arrives (to capture
    ///   what else was true at that moment).
    public init(path: String, observer: (@Sendable (Datagram) -> Void)? = nil) throws {
        self.path = path
        inbox = Inbox(observer: observer)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket(AF_UNIX, SOCK_DGRAM): \(String(cString: strerror(errno)))") }
        unlink(path)
        var address = try unixAddress(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw TestFailure("bind \(path): \(String(cString: strerror(errno)))")
        }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let inbox = self.inbox
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !inbox.stopped.load(ordering: .relaxed) {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                guard n > 0 else { continue }
                let datagram = Datagram(received: Date(), text: String(decoding: buffer[0..<n], as: UTF8.self))
                inbox.datagrams.withLock { $0.append(datagram) }
                inbox.observer?(datagram)
            }
            close(fd)
        }
        thread.name = "notify-socket"
        thread.start()
    }

    deinit {
        inbox.stopped.store(true, ordering: .relaxed)
        unlink(path)
    }

    public var datagrams: [Datagram] { inbox.datagrams.withLock { $0 } }

    /// The first datagram (from index `from` on) that has `assignment`, waiting up to `timeout`.
    public func waitFor(_ assignment: String, from: Int = 0, timeout: TimeInterval) -> (index: Int, datagram: Datagram)? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let all = datagrams
            if from < all.count, let i = all[from...].firstIndex(where: { $0.contains(assignment) }) { return (i, all[i]) }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }
}

func unixAddress(_ path: String) throws -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw TestFailure("socket path too long: \(path)") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return address
}

// MARK: - Commands run to completion

public struct Completed: Sendable, CustomStringConvertible {
    /// Exit status, or nil if the command was killed at its deadline.
    public var status: Int32?
    public var stdout: String
    public var stderr: String
    public var seconds: Double
    public var description: String { "status \(status.map(String.init) ?? "timeout") stdout: \(stdout) stderr: \(stderr)" }
}

/// Runs `executable` to completion (SIGKILL after `timeout`), with `stdin` as its input.
///
/// posix_spawn and waitpid rather than Foundation's `Process`: `Process` decides that a child
/// ended when a socket it hands the child closes, so a command that leaves a daemon running in
/// the background (`tansu.sh start`) would never end. The child gets only fds 0-2.
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                       stdin: Data? = nil, timeout: TimeInterval = 60) throws -> Completed {
    let dir = NSTemporaryDirectory() + "sf-run-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let outPath = dir + "/stdout", errPath = dir + "/stderr", inPath = dir + "/stdin"
    _ = FileManager.default.createFile(atPath: inPath, contents: stdin ?? Data())

    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "NOTIFY_SOCKET")
    for (k, v) in environment { env[k] = v }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    // glibc ≥ 2.34 has it; Swift does not import it, so look it up.
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
    }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for p in argv { free(p) }
        for p in envp { free(p) }
    }
    let started = Date()
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard rc == 0 else { throw TestFailure("unable to run \(executable): \(String(cString: strerror(rc)))") }

    let deadline = started.addingTimeInterval(timeout)
    var status: Int32 = 0
    var timedOut = false
    while true {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { break }
        if r < 0 && errno != EINTR { throw TestFailure("waitpid \(pid): \(String(cString: strerror(errno)))") }
        if Date() >= deadline {
            kill(pid, SIGKILL)
            timedOut = true
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            break
        }
        usleep(5_000)
    }
    // Exit code, or 128 + signal as a shell reports it.
    let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return Completed(status: timedOut ? nil : code,
                     stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                     stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                     seconds: Date().timeIntervalSince(started))
}

// MARK: - Raw Unix stream client

/// Connects to a Unix stream socket, sends `bytes` (possibly several lines, or none), then
/// reads until `replies` newline-terminated lines arrived, the peer closed, or `timeout`.
/// Returns the lines (without newlines) and whether the peer closed the connection.
public func unixStreamExchange(path: String, send bytes: [UInt8], replies: Int = 1,
                               timeout: TimeInterval = 10) throws -> (lines: [String], closed: Bool) {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = try unixAddress(path)
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard rc == 0 else { throw TestFailure("connect \(path): \(String(cString: strerror(errno)))") }
    var tv = timeval(tv_sec: 0, tv_usec: 100_000)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var offset = 0
    let deadline = Date().addingTimeInterval(timeout)
    var received: [UInt8] = []
    var closed = false
    var buffer = [UInt8](repeating: 0, count: 65536)
    func lineCount() -> Int { received.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
    // Send and read interleaved: the server may reply (and close) before it read everything.
    while Date() < deadline {
        if offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, min(65536, $0.count - offset), Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n > 0 {
                offset += n
            } else if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                offset = bytes.count  // EPIPE/ECONNRESET: the server closed; read what it said
            }
        }
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, offset < bytes.count ? Int32(MSG_DONTWAIT) : 0) }
        if n > 0 {
            received += buffer[0..<n]
        } else if n == 0 {
            closed = true
            break
        } else if errno == ECONNRESET {
            closed = true
            break
        }
        if offset >= bytes.count && lineCount() >= replies { break }
    }
    if !closed {
        // Did the peer hang up after its replies? (The receive timeout bounds the wait.)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if n > 0 { received += buffer[0..<n] }
        closed = n == 0 || (n < 0 && errno == ECONNRESET)
    }
    let lines = received.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        .map { String(decoding: $0, as: UTF8.self) }
    return (Array(lines), closed)
}

// MARK: - Processes

/// Whether `pid` is a live process (present in /proc and not a zombie).
public func processIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
    return state != "Z" && state != "X"
}

/// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
public func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard ok else { throw TestFailure("bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}

// MARK: - Records in the background

/// Produces records `make(0)`, `make(1)`, ... in batches on its own thread until stopped, so a
/// test can scale, kill or reload while records flow. Every record is acknowledged before
/// `stop()` returns.
public final class BackgroundProducer: Sendable {
    private final class State: Sendable {
        let count = Atomic<Int>(0)
        let stopRequested = Atomic<Bool>(false)
        let failure = Mutex<String?>(nil)
        let finished = Atomic<Bool>(false)
    }
    private let state = State()

    /// - Parameters:
    ///   - batch: records per batch; `interval` seconds between batches.
    ///   - make: the record with sequence number i (0-based, dense).
    public init(bootstrap: String, topic: String, batch: Int = 100, interval: TimeInterval = 0.1,
                _ make: @escaping @Sendable (Int) -> Outgoing) {
        let state = self.state
        let thread = Thread {
            defer { state.finished.store(true, ordering: .releasing) }
            do {
                let producer = try KafkaProducer(properties: [("bootstrap.servers", bootstrap), ("enable.idempotence", "true"),
                                                              ("linger.ms", "5")])
                let handle = producer.topic(topic)
                var next = 0
                var acked = 0
                var error: KafkaError?
                let onReport: (DeliveryReport) -> Void = { r in
                    if let e = r.error { error = e } else { acked += 1 }
                }
                while !state.stopRequested.load(ordering: .relaxed) {
                    for _ in 0..<batch {
                        let r = make(next)
                        while true {
                            let err: KafkaError? = KafkaTestClient.withOptionalBytes(r.key) { k in
                                KafkaTestClient.withOptionalBytes(r.value) { v in
                                    producer.produce(topic: handle, partition: r.partition, key: k, value: v,
                                                     headers: .list(r.headers), timestamp: r.timestamp, id: UInt64(next + 1))
                                }
                            }
                            guard let err else { break }
                            guard err.isQueueFull else { throw err }
                            try producer.pollDeliveries(timeoutMs: 10, onReport)
                        }
                        next += 1
                    }
                    let until = Date().addingTimeInterval(interval)
                    repeat { try producer.pollDeliveries(timeoutMs: 10, onReport) } while Date() < until
                    if let error { throw error }
                    state.count.store(acked, ordering: .relaxed)
                }
                let deadline = Date().addingTimeInterval(60)
                while acked < next && error == nil && Date() < deadline { try producer.pollDeliveries(timeoutMs: 50, onReport) }
                if let error { throw error }
                if acked < next { throw TestFailure("only \(acked) of \(next) records acknowledged") }
                state.count.store(acked, ordering: .relaxed)
            } catch {
                state.failure.withLock { $0 = "\(error)" }
            }
        }
        thread.name = "background-producer"
        thread.start()
    }

    /// Records acknowledged so far.
    public var acknowledged: Int { state.count.load(ordering: .relaxed) }

    /// Waits until at least `n` records were acknowledged (false on timeout or failure).
    public func waitFor(_ n: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while acknowledged < n && Date() < deadline && state.failure.withLock({ $0 }) == nil { usleep(20_000) }
        return acknowledged >= n
    }

    /// Stops after the current batch and waits for every acknowledgement; returns how many
    /// records were produced (sequence numbers 0..<n).
    public func stop() throws -> Int {
        state.stopRequested.store(true, ordering: .relaxed)
        let deadline = Date().addingTimeInterval(90)
        while !state.finished.load(ordering: .acquiring) && Date() < deadline { usleep(20_000) }
        if let failure = state.failure.withLock({ $0 }) { throw TestFailure("background producer: \(failure)") }
        guard state.finished.load(ordering: .acquiring) else { throw TestFailure("background producer did not stop") }
        return acknowledged
    }

    deinit { state.stopRequested.store(true, ordering: .relaxed) }
}

extension KafkaTestClient {
    /// Reads topics from the beginning with a fresh group until `done` says so (checked about
    /// every half second) or `timeout` passed; returns everything read.
    public static func consume(bootstrap: String, topics: [String], timeout: TimeInterval,
                               until done: ([Received]) -> Bool) throws -> [Received] {
        let consumer = try KafkaConsumer(properties: [
            ("bootstrap.servers", bootstrap), ("group.id", "verify-\(UUID().uuidString)"),
            ("auto.offset.reset", "earliest"), ("enable.auto.commit", "false"),
        ], rebalanceHandler: NoRebalanceActions())
        try consumer.subscribe(topics)
        var out: [Received] = []
        let deadline = Date().addingTimeInterval(timeout)
        var nextCheck = Date()
        while Date() < deadline {
            _ = consumer.poll(timeoutMs: 100) { m in
                out.append(Received(topic: m.topic, partition: m.partition, offset: m.offset, key: m.key.map { Array($0) },
                                    value: m.value.map { Array($0) },
                                    headers: m.headers.map { .init($0.name, $0.value.map { Array($0) }) },
                                    timestamp: m.timestamp))
            }
            if Date() >= nextCheck {
                if done(out) { break }
                nextCheck = Date().addingTimeInterval(0.5)
            }
        }
        consumer.close()
        return out
    }
}

// MARK: - HTTP

/// A plain HTTP/1.1 GET over loopback TCP: the status code and the body.
public func httpGet(port: Int, path: String, timeout: TimeInterval = 10) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { throw TestFailure("connect 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { throw TestFailure("send failed") }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n > 0 { received += buffer[0..<n]; continue }
        if n < 0 && errno == EINTR { continue }
        break
    }
    let text = String(decoding: received, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n"), text.hasPrefix("HTTP/1.1 "),
          let status = Int(text.dropFirst(9).prefix(3)) else { throw TestFailure("not an HTTP response: \(text.prefix(200))") }
    return (status, String(text[split.upperBound...]))
}

/// Parses Prometheus exposition text with the reference parser (Debian's python3-prometheus-client):
/// the samples as "name{labels} value" lines, or the parser's error.
public func parsePrometheus(_ text: String) throws -> [String: Double] {
    let script = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        for family in text_string_to_metric_families(sys.stdin.read()):
            for s in family.samples:
                labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
                print("%s{%s} %r" % (s.name, labels, s.value))
        """
    let result = try runCommand("/usr/bin/python3", ["-c", script], stdin: Data(text.utf8))
    guard result.status == 0 else { throw TestFailure("the Prometheus parser refused the exposition: \(result.stderr)") }
    var samples: [String: Double] = [:]
    for line in result.stdout.split(separator: "\n") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        samples[String(line[..<space])] = value
    }
    return samples
}
