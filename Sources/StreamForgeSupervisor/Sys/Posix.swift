// Thin wrappers over the system calls the supervisor needs. Every raw syscall of the module
// lives in this folder; the rest of the module sees Swift types and `SysError`.

#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: "unable to <what>: <strerror>".
public struct SysError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "unable to \(operation): \(String(cString: strerror(code)))" }
}

enum Posix {
    /// CLOCK_MONOTONIC as a Duration (the machine's time base).
    static func monotonicNow() -> Duration {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return .seconds(Int64(ts.tv_sec)) + .nanoseconds(Int64(ts.tv_nsec))
    }

    static func microseconds(_ d: Duration) -> UInt64 {
        let c = d.components
        return UInt64(max(0, c.seconds)) * 1_000_000 + UInt64(max(0, c.attoseconds) / 1_000_000_000_000)
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    /// A connected pair of Unix stream sockets, both close-on-exec.
    static func socketPair() throws(SysError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw SysError("create a socket pair")
        }
        return (fds[0], fds[1])
    }

    enum ReadResult {
        case data(Int)
        case wouldBlock
        case closed
    }

    /// One read(2) into `buffer`, retrying EINTR.
    static func read(_ fd: Int32, into buffer: inout [UInt8]) -> ReadResult {
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n > 0 { return .data(n) }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            return .closed
        }
    }

    /// Writes as much as the socket takes without blocking; returns the bytes written, or nil
    /// when the peer is gone. Never raises SIGPIPE.
    static func sendSome(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Int? {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + written, raw.count - written, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { written += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return written }
            return nil
        }
        return written
    }

    /// Reaps one exited child without blocking.
    static func reapOne() -> (pid: Int32, status: ExitStatus)? {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid < 0 && errno == EINTR { continue }
            guard pid > 0 else { return nil }
            // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out (they are macros).
            let termsig = status & 0x7f
            if termsig == 0 {
                return (pid, .exited((status >> 8) & 0xff))
            }
            if termsig != 0x7f {
                return (pid, .signaled(termsig))
            }
            // Stopped/continued: not an exit (we do not ask for these, but be safe).
            continue
        }
    }

    static func kill(_ pid: Int32, _ signal: KillSignal) {
        _ = Glibc.kill(pid, signal == .kill ? SIGKILL : SIGTERM)
    }

    static func errorString(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Number of CPUs this process may run on.
    static func cpuCount() -> Int {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? n : 1
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// poll(2) over a set of descriptors.
struct Poller {
    private(set) var fds: [pollfd] = []

    mutating func reset() { fds.removeAll(keepingCapacity: true) }

    mutating func add(_ fd: Int32, read: Bool = true, write: Bool = false) {
        var events: Int16 = 0
        if read { events |= Int16(POLLIN) }
        if write { events |= Int16(POLLOUT) }
        fds.append(pollfd(fd: fd, events: events, revents: 0))
    }

    /// Waits up to `timeout` (nil: forever). EINTR returns early with nothing ready.
    mutating func wait(timeout: Duration?) {
        var ms: Int32 = -1
        if let timeout {
            let c = timeout.components
            let total = max(0, c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000 + 1)
            ms = Int32(min(total, 60_000))
        }
        for i in fds.indices { fds[i].revents = 0 }
        _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), ms) }
    }

    func isReadable(_ fd: Int32) -> Bool {
        fds.contains { $0.fd == fd && ($0.revents & Int16(POLLIN | POLLHUP | POLLERR)) != 0 }
    }

    func isWritable(_ fd: Int32) -> Bool {
        fds.contains { $0.fd == fd && ($0.revents & Int16(POLLOUT | POLLERR)) != 0 }
    }
}
