// posix_spawn of a worker: never fork without exec (Swift runtimes are multi-threaded).
//
// The child gets the socketpair end as fd 3 (`STREAMFORGE_SUPERVISOR_FD=3`); every other
// descriptor of the supervisor is close-on-exec. NOTIFY_SOCKET and the watchdog variables are
// removed from its environment: only the supervisor speaks to systemd. The child starts with
// an empty signal mask, default dispositions, and its own process group (a Ctrl-C in a terminal
// reaches the supervisor, which drains the workers, rather than killing them mid-batch).

#if canImport(Glibc)
import Glibc
#endif
import StreamForgeCore
import StreamForgeIPC

enum Spawner {
    /// Variables the supervisor keeps to itself.
    static let removedVariables: Set<String> = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                                                "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                                                SupervisorEnvironment.fdVariable, SupervisorEnvironment.pidVariable]

    /// The worker's environment: ours, less `removedVariables`, plus the link variables.
    static func workerEnvironment(_ environment: [String: String], supervisorPid: Int32) -> [String] {
        var env = environment.filter { !removedVariables.contains($0.key) }
        env[SupervisorEnvironment.fdVariable] = String(SupervisorEnvironment.workerFD)
        env[SupervisorEnvironment.pidVariable] = String(supervisorPid)
        return env.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Spawns `executable` with `arguments` (argv[1...]) and `childEnd` as fd 3.
    static func spawn(executable: String, arguments: [String], environment: [String],
                      childEnd: Int32) throws(SysError) -> Int32 {
        var source = childEnd
        // dup2(3, 3) would keep close-on-exec set: move the end out of the way first.
        if source == SupervisorEnvironment.workerFD {
            source = fcntl(childEnd, F_DUPFD_CLOEXEC, 10)
            guard source >= 0 else { throw SysError("duplicate the worker socket") }
        }
        defer { if source != childEnd { Posix.close(source) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, source, SupervisorEnvironment.workerFD)

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, argv, envp)
        guard rc == 0 else { throw SysError("spawn \(executable)", code: rc) }
        return pid
    }
}
