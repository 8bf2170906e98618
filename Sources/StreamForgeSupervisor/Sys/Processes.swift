// The process calls of the supervisor: reaping children, signalling them, and what the
// machine offers.

#if canImport(Glibc)
import Glibc
#endif
import StreamForgeIPC

extension Posix {
    /// Reaps one exited child without blocking.
    static func reapOne() -> (pid: Int32, status: ExitStatus)? {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid < 0 && errno == EINTR { continue }
            guard pid > 0 else { return nil }
            switch ProcessCalls.decode(waitStatus: status) {
            case .exited(let code): return (pid, .exited(code))
            case .signaled(let signal): return (pid, .signaled(signal))
            case .other: continue  // stopped/continued: not an exit (not asked for, but be safe)
            }
        }
    }

    static func kill(_ pid: Int32, _ signal: KillSignal) {
        _ = Glibc.kill(pid, signal == .kill ? SIGKILL : SIGTERM)
    }

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
