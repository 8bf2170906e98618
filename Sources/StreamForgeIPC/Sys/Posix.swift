// Thin wrappers over the system calls of descriptors, sockets and poll(2) that the supervisor,
// the control socket and the worker link share. Reads, closes and error numbers go through
// swift-system (`FileDescriptor`, `Errno`, EINTR retried there); what it does not cover yet
// (sockets, SO_PEERCRED, send(2) with MSG_NOSIGNAL, fcntl flags, poll) is called here by hand.
// Raw syscalls live in this folder; the rest sees Swift types and `SysError`.

import StreamForgeCore
public import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: "unable to <what>: <strerror>".
public struct SysError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var errno: Errno

    /// The error the last failed call left in `errno`.
    public init(_ operation: String) {
        self.init(operation, code: Glibc.errno)
    }

    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.errno = Errno(rawValue: code)
    }

    public init(_ operation: String, _ errno: Errno) {
        self.operation = operation
        self.errno = errno
    }

    public var code: Int32 { errno.rawValue }

    public var description: String { "unable to \(operation): \(errno)" }
}

package enum Posix {
    /// CLOCK_MONOTONIC as a Duration (the machine's time base).
    package static func monotonicNow() -> Duration {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return .seconds(Int64(ts.tv_sec)) + .nanoseconds(Int64(ts.tv_nsec))
    }

    package static func microseconds(_ d: Duration) -> UInt64 {
        let c = d.components
        return UInt64(max(0, c.seconds)) * 1_000_000 + UInt64(max(0, c.attoseconds) / 1_000_000_000_000)
    }

    package static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    package static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    /// A connected pair of Unix stream sockets, both close-on-exec.
    package static func socketPair() throws(SysError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw SysError("create a socket pair")
        }
        return (fds[0], fds[1])
    }

    package enum ReadResult {
        case data(Int)
        case wouldBlock
        case closed
    }

    /// One read(2) into `buffer`, retrying EINTR.
    package static func read(_ fd: Int32, into buffer: inout [UInt8]) -> ReadResult {
        do {
            let n = try buffer.withUnsafeMutableBytes { try FileDescriptor(rawValue: fd).read(into: $0, retryOnInterrupt: true) }
            return n > 0 ? .data(n) : .closed
        } catch let error as Errno where error == .wouldBlock {
            return .wouldBlock
        } catch {
            return .closed
        }
    }

    /// close(2); the descriptor is gone whatever it returns (Linux), so errors are not reported.
    package static func close(_ fd: Int32) {
        try? FileDescriptor(rawValue: fd).close()
    }

    /// Writes as much as the socket takes without blocking; returns the bytes written, or nil
    /// when the peer is gone. Never raises SIGPIPE.
    package static func sendSome(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Int? {
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

    package static func errorString(_ code: Int32) -> String { Errno(rawValue: code).description }

}

/// poll(2) over a set of descriptors.
package struct Poller {
    package init() {}
    private(set) var fds: [pollfd] = []

    package mutating func reset() { fds.removeAll(keepingCapacity: true) }

    package mutating func add(_ fd: Int32, read: Bool = true, write: Bool = false) {
        var events: Int16 = 0
        if read { events |= Int16(POLLIN) }
        if write { events |= Int16(POLLOUT) }
        fds.append(pollfd(fd: fd, events: events, revents: 0))
    }

    /// Waits up to `timeout` (nil: forever). EINTR returns early with nothing ready.
    package mutating func wait(timeout: Duration?) {
        var ms: Int32 = -1
        if let timeout {
            let c = timeout.components
            let total = max(0, c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000 + 1)
            ms = Int32(min(total, 60_000))
        }
        for i in fds.indices { fds[i].revents = 0 }
        _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), ms) }
    }

    package func isReadable(_ fd: Int32) -> Bool {
        fds.contains { $0.fd == fd && ($0.revents & Int16(POLLIN | POLLHUP | POLLERR)) != 0 }
    }

    package func isWritable(_ fd: Int32) -> Bool {
        fds.contains { $0.fd == fd && ($0.revents & Int16(POLLOUT | POLLERR)) != 0 }
    }
}
