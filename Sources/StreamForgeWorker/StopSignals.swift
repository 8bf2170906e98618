#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Requests from outside the worker's thread: signals and supervisor commands. Handlers only
/// record; the worker loop acts.
public final class WorkerControl: Sendable {
    private let drain = Atomic<Bool>(false)
    private let leave = Atomic<Bool>(false)
    private let paused = Atomic<Bool>(false)
    public init() {}
    public func requestDrain() { drain.store(true, ordering: .relaxed) }
    /// Drain and leave the group (scale-down): a static member's partitions move at once.
    public func requestLeave() {
        leave.store(true, ordering: .relaxed)
        drain.store(true, ordering: .relaxed)
    }
    public var leaveRequested: Bool { leave.load(ordering: .relaxed) }
    public var drainRequested: Bool { drain.load(ordering: .relaxed) || processStopSignal.load(ordering: .relaxed) }
    public func setPaused(_ value: Bool) { paused.store(value, ordering: .relaxed) }
    public var pauseRequested: Bool { paused.load(ordering: .relaxed) }
}

/// Set by SIGTERM/SIGINT.
let processStopSignal = Atomic<Bool>(false)

/// SIGTERM and SIGINT make the worker drain: stop fetching, finish in-flight records, flush,
/// commit, close and exit 0.
public func installStopSignalHandlers() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in processStopSignal.store(true, ordering: .relaxed) }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGTERM, &action, nil)
    sigaction(SIGINT, &action, nil)
    signal(SIGPIPE, SIG_IGN)
    // A parent may have spawned us with these blocked; librdkafka's threads, created later,
    // inherit this mask too.
    var unblock = sigset_t()
    sigemptyset(&unblock)
    sigaddset(&unblock, SIGTERM)
    sigaddset(&unblock, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
}
