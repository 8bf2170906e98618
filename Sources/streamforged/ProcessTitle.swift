// What `ps` shows for each process of the service: `streamforged: supervisor [appid]` and
// `streamforged: worker 2 [appid]`, so an operator can tell them apart (the process name that
// `pgrep streamforged` matches stays the executable's).
//
// Linux has no setproctitle(3): like nginx and PostgreSQL, the title is written over the
// memory of the original argv strings, which /proc/PID/cmdline shows. The environment strings
// that follow them are copied to the heap first (and `environ` pointed at the copies), so the
// title may use their room too. Done after the arguments were parsed; nothing reads argv later.

#if canImport(Glibc)
import Glibc
#endif
import StreamForgeIPC

enum ProcessTitle {
    static func set(_ title: String) {
        let argc = Int(CommandLine.argc)
        let argv = CommandLine.unsafeArgv
        guard argc > 0, let first = argv[0] else { return }
        // The argv strings, then the environment's, lie end to end; take what is contiguous.
        var end = first + strlen(first)
        for i in 1..<argc {
            guard let arg = argv[i], arg == end + 1 else { break }
            end = arg + strlen(arg)
        }
        if let env = Optional(environ) {
            var i = 0
            while let entry = env[i] {
                if entry == end + 1 { end = entry + strlen(entry) }
                env[i] = strdup(entry)  // the original is about to be overwritten
                i += 1
            }
        }
        setProcessName("streamforged")
        let capacity = end - first
        let bytes = Array(title.utf8.prefix(capacity))
        memset(first, 0, capacity)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            memcpy(first, base, buffer.count)
        }
    }

    /// The name `pgrep` and `top` match (PR_SET_NAME, at most 15 bytes): `streamforged` also
    /// for a worker started through `/proc/self/exe`, which would otherwise be named `exe`.
    static func setProcessName(_ name: String) {
        ProcessCalls.setName(name)
    }

    /// The executable's real path, so that workers are started from it (their process name
    /// is then `streamforged`, which `pgrep` matches; through `/proc/self/exe` it would be
    /// `exe`). When that file is no longer the running binary (a package upgrade replaced it),
    /// `/proc/self/exe`: a supervisor keeps starting workers of its own version until it is
    /// restarted itself.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "/proc/self/exe" }
        let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var onDisk = stat(), running = stat()
        guard stat(path, &onDisk) == 0, stat("/proc/self/exe", &running) == 0,
              onDisk.st_ino == running.st_ino, onDisk.st_dev == running.st_dev else { return "/proc/self/exe" }
        return path
    }
}
