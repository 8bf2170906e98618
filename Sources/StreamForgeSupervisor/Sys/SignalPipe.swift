// The one owner of signals. Handlers only record the signal number into a non-blocking
// self-pipe; the main loop polls the pipe and does all the handling. (signalfd would need the
// signals blocked in every thread, including threads the runtime may have started already.)

import StreamForgeIPC
#if canImport(Glibc)
import Glibc
#endif

/// Written by the handler, read by the loop; set once before the handlers are installed.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

private func recordSignal(_ signal: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipeWriteEnd, &byte, 1)
    errno = saved
}

final class SignalPipe {
    let readEnd: Int32
    private let writeEnd: Int32
    static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGCHLD]

    init() throws(SysError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SysError("create the signal pipe") }
        readEnd = fds[0]
        writeEnd = fds[1]
        for fd in fds {
            Posix.setNonBlocking(fd)
            Posix.setCloseOnExec(fd)
        }
        signalPipeWriteEnd = writeEnd
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { recordSignal($0) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART | SA_NOCLDSTOP
        for signal in Self.handled { sigaction(signal, &action, nil) }
        // A control client that hangs up mid-reply must not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        // Make sure none of them is blocked in this thread.
        var set = sigset_t()
        sigemptyset(&set)
        for s in Self.handled { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Signals received since the last call, in order (duplicates of SIGCHLD collapsed).
    func drain() -> [Int32] {
        var result: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while case .data(let n) = Posix.read(readEnd, into: &buffer) {
            for byte in buffer[0..<n] {
                let signal = Int32(byte)
                if signal == SIGCHLD && result.contains(SIGCHLD) { continue }
                result.append(signal)
            }
        }
        return result
    }

    /// Back to default dispositions (at exit).
    func restore() {
        for signal in Self.handled { Glibc.signal(signal, SIG_DFL) }
    }
}
