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
        let capacity = end - first
        let bytes = Array(title.utf8.prefix(capacity))
        memset(first, 0, capacity)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            memcpy(first, base, buffer.count)
        }
    }

    /// The executable's real path, so that workers are started from it (and show it), not
    /// from `/proc/self/exe`; `/proc/self/exe` when the file was replaced or cannot be read.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "/proc/self/exe" }
        let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.hasSuffix(" (deleted)") ? "/proc/self/exe" : path
    }
}
