// The worker's end of the supervisor link: the Unix socketpair end that `streamforged` hands
// each worker as fd 3 (`STREAMFORGE_SUPERVISOR_FD=3`). The worker sends hello, ready, snapshots
// and errors; it receives drain, pause and resume. When the supervisor's end closes (the
// supervisor died or is stopping) the worker is told to drain.

#if canImport(Glibc)
import Glibc
#endif
import Foundation  // Thread, FileHandle (not in FoundationEssentials)
import StreamForgeCore
import StreamForgeLanguage
import Synchronization

public final class SupervisorLink: Sendable {
    private let fd: Int32
    /// Serializes writers: a frame is written whole, never interleaved.
    private let writeLock = Mutex<Bool>(true)
    private let readerStarted = Atomic<Bool>(false)

    /// The link named by `STREAMFORGE_SUPERVISOR_FD`, or nil when the worker runs standalone
    /// (started by hand, without a supervisor) or the descriptor is not an open socket.
    public static func fromEnvironment() -> SupervisorLink? {
        guard let text = ProcessInfo.processInfo.environment[SupervisorEnvironment.fdVariable],
              let fd = Int32(text), fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK else { return nil }
        // Keep the link out of anything this worker might exec.
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        return SupervisorLink(fd: fd)
    }

    /// A link over an already connected stream socket (tests).
    public init(fd: Int32) {
        self.fd = fd
    }

    /// Sends one message; never blocks on a dead supervisor (EPIPE is ignored, no SIGPIPE).
    /// Returns false when the supervisor is gone.
    @discardableResult
    public func send(_ message: WorkerMessage) -> Bool {
        let bytes = LineCodec.encode(message)
        return writeLock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    if n > 0 {
                        offset += n
                    } else if n < 0 && errno == EINTR {
                        continue
                    } else {
                        return false
                    }
                }
                return true
            }
        }
    }

    /// Reads commands on a dedicated thread and calls `onCommand` for each, in order, on that
    /// thread. When the supervisor's end closes, `onCommand(.drain)` is called once and the
    /// thread ends. Calling this more than once has no effect.
    public func startReading(onCommand: @escaping @Sendable (WorkerCommand) -> Void) {
        guard readerStarted.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        let fd = self.fd
        let thread = Thread {
            var framer = LineFramer(maxFrameSize: LineFramer.defaultControlLimit)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                buffer.withUnsafeBytes { framer.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                while true {
                    let line: [UInt8]?
                    do { line = try framer.next() } catch { continue }
                    guard let line else { break }
                    // Unknown or malformed commands are ignored: a newer supervisor may send more.
                    if let frame = try? LineCodec.decode(WorkerCommandFrame.self, from: line) {
                        onCommand(frame.type)
                    }
                }
            }
            onCommand(.drain)
        }
        thread.name = "supervisor-link"
        thread.start()
    }
}

/// Makes the kernel SIGKILL this worker when the supervisor dies (`PR_SET_PDEATHSIG`), so no
/// orphan outlives a `kill -9` of `streamforged`. Call it first thing in worker mode. If the
/// supervisor already died before the call (the parent changed), the worker exits at once
/// with status 75: there is nobody to report to.
public func armParentDeathSignal() {
    ProcessCalls.setParentDeathSignal(SIGKILL)
    let parent = getppid()
    if let text = ProcessInfo.processInfo.environment[SupervisorEnvironment.pidVariable],
       let expected = Int32(text), parent != expected {
        FileHandle.standardError.write(Data("streamforged worker: supervisor \(expected) is gone, exiting\n".utf8))
        exit(ExitCode.temporary.rawValue)
    }
}
