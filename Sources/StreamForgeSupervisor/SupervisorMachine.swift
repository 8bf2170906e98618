// The supervisor's logic as a pure state machine: events in, actions out, no I/O and no clock
// of its own (`.tick(now)` brings the time). `SupervisorLoop` performs the actions; the tests
// drive the machine with a fake clock.
//
// Rules it keeps:
// - One process per slot at a time: a slot is respawned only after its process was reaped.
// - A worker that exits unasked is respawned after a backoff: ≥ 1 s, doubling, capped; a worker
//   that stayed up for `healthyPeriod` starts again from the initial backoff.
// - A slot is retried for ever: after `crashLoopLimit` unhealthy exits in a row it is reported
//   `crash-looping` (status, log, STATUS=), and its backoff stays capped at `maxBackoff`.
// - Exit 78 (configuration error) is never respawned.
// - A worker reports every second; one silent for `workerTimeout` is killed (SIGKILL) and
//   respawned like a crash. Its data is shown as stale after `staleAfter`, and its partitions are
//   not counted in the totals.
// - With no healthy worker for `exitAfterUnhealthy` (when set), the supervisor drains and exits 75
//   so that systemd's restart policy and alerting take over.
// - Autoscaling (when configured): one worker more when the host's lag stayed above the limit
//   for the configured time, one less when it stayed below; within min…max, never while a
//   worker idles for lack of partitions, never within the cool-down of the last decision, and
//   only while every worker is up and reporting. A manual `scale` pauses it until `autoscale on`.
// - Stopping a worker (stop, scale down, reload) sends `drain` and SIGTERM, then SIGKILL after a
//   deadline.
// - READY=1 once every wanted worker reported ready; a reload rolls the workers one at a time
//   (drain, reap, respawn, wait for ready, next) and then sends READY=1 again.

public import StreamForgeCore
public import StreamForgeIPC

/// How a worker process ended, from waitpid(2).
public enum ExitStatus: Hashable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signaled(let signal): return "signal \(signal)"
        }
    }

    /// Signals a process gets from its own fault, not from another process.
    public static let crashSignals: Set<Int32> = [4, 5, 6, 7, 8, 11, 31]  // ILL TRAP ABRT BUS FPE SEGV SYS

    /// "SIGKILL" for 9 (Linux numbering); "signal N" for the rest.
    public static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
                                      7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE",
                                      14: "SIGALRM", 15: "SIGTERM", 31: "SIGSYS"]
        return names[signal] ?? "signal \(signal)"
    }

    /// "exited with status 1" / "exited on signal 9", for log lines.
    public var phrase: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signaled(let signal): return "exited on signal \(signal)"
        }
    }
}

/// The timing rules of the supervisor.
public struct SupervisorPolicy: Hashable, Sendable {
    /// First respawn delay (never less than one second).
    public var initialBackoff: Duration
    /// Respawn delay cap.
    public var maxBackoff: Duration
    /// A worker up this long resets its slot's backoff and crash count.
    public var healthyPeriod: Duration
    /// Unhealthy exits in a row after which a slot is reported crash-looping (it is still
    /// respawned, with the capped backoff).
    public var crashLoopLimit: Int
    /// From drain to SIGKILL, for a single worker (scale down, reload) and at shutdown. Keep it
    /// below the unit's TimeoutStopSec.
    public var stopTimeout: Duration
    /// How long a reload waits for a rolled worker to report ready before it moves on.
    public var readyTimeout: Duration
    /// A running worker silent this long is killed and respawned.
    public var workerTimeout: Duration
    /// A new process gets this long for its first message (start-up, under load).
    public var firstMessageTimeout: Duration
    /// A worker silent this long is shown as stale: its partitions and lag are not counted.
    public var staleAfter: Duration
    /// With no healthy worker this long, drain and exit 75; nil = never.
    public var exitAfterUnhealthy: Duration?

    public init(initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(60),
                healthyPeriod: Duration = .seconds(60), crashLoopLimit: Int = 6,
                stopTimeout: Duration = .seconds(20), readyTimeout: Duration = .seconds(120),
                workerTimeout: Duration = .seconds(5), exitAfterUnhealthy: Duration? = nil) {
        self.initialBackoff = max(initialBackoff, .seconds(1))
        self.maxBackoff = max(maxBackoff, self.initialBackoff)
        self.healthyPeriod = healthyPeriod
        self.crashLoopLimit = max(1, crashLoopLimit)
        self.stopTimeout = stopTimeout
        self.readyTimeout = readyTimeout
        self.workerTimeout = max(workerTimeout, .seconds(2))
        self.firstMessageTimeout = max(self.workerTimeout, .seconds(10))
        self.staleAfter = min(.milliseconds(2500), self.workerTimeout)
        self.exitAfterUnhealthy = exitAfterUnhealthy
    }

    /// The policy a configuration asks for.
    public init(_ supervision: SupervisionConfig, stopTimeout: Duration = .seconds(20)) {
        self.init(maxBackoff: .seconds(supervision.restartBackoffMaxSeconds), stopTimeout: stopTimeout,
                  workerTimeout: .seconds(supervision.workerTimeoutSeconds),
                  exitAfterUnhealthy: supervision.exitAfterUnhealthySeconds.map { .seconds($0) })
    }
}

/// Signals the supervisor acts on.
public enum SupervisorSignal: Hashable, Sendable {
    /// SIGTERM: drain and stop.
    case terminate
    /// SIGINT: as SIGTERM; a second one kills the workers at once.
    case interrupt
}

/// What the supervisor tells systemd (state changes only; STATUS and WATCHDOG are the loop's).
public enum Notification: Hashable, Sendable {
    case ready
    case reloading
    case stopping
}

public enum LogLevel: String, Hashable, Sendable {
    case debug, info, notice, warning, error
}

public struct LogEntry: Hashable, Sendable {
    public var level: LogLevel
    public var message: String
    public var metadata: [String: String]

    public init(_ level: LogLevel, _ message: String, _ metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

public enum KillSignal: Hashable, Sendable {
    case terminate
    case kill
}

public struct SupervisorMachine: Sendable {
    public enum Event: Hashable, Sendable {
        /// The time now (monotonic). Deliver one before each batch of other events.
        case tick(Duration)
        /// Start with this many workers.
        case start(workers: Int)
        case spawned(slot: Int, pid: Int32)
        case spawnFailed(slot: Int, reason: String)
        case ready(pid: Int32, assigned: [TopicPartition])
        case snapshot(pid: Int32, WorkerSnapshot)
        case workerError(pid: Int32, message: String)
        /// Any other message from a worker (its hello): it is alive.
        case heard(pid: Int32)
        case exited(pid: Int32, status: ExitStatus)
        case signal(SupervisorSignal)
        case scale(workers: Int)
        /// A new, valid configuration was loaded: roll every worker onto it.
        case reload(workers: Int)
        /// Drain every worker and exit (control `drain`/`stop`).
        case stop
        case pause
        case resume
        /// Autoscaling settings (start and reload); nil turns it off.
        case configureAutoscale(AutoscaleConfig?)
        /// `streamforgectl autoscale on|off`.
        case autoscale(enabled: Bool)
    }

    public enum Action: Hashable, Sendable {
        case spawn(slot: Int)
        case send(pid: Int32, WorkerCommand)
        case kill(pid: Int32, KillSignal)
        case notify(Notification)
        /// Deliver a `.tick` at (or soon after) this time.
        case armTimer(at: Duration)
        case log(LogEntry)
        case exit(code: Int32)
    }

    public enum Phase: Hashable, Sendable {
        case idle, starting, running, stopping, exited
    }

    /// A live worker process of a slot.
    public struct Process: Hashable, Sendable {
        public var pid: Int32
        public var spawnedAt: Duration
        public var generation: Int
        public var ready = false
        public var assigned: [TopicPartition] = []
        public var snapshot: WorkerSnapshot?
        public var stopRequestedAt: Duration?
        public var killDeadline: Duration?
        public var killed = false
        /// Why the supervisor killed it, when it did so on its own (not a drain deadline).
        public var killReason: String?
        /// When the worker last sent anything; nil before its first message.
        public var lastHeard: Duration?
        public var lastError: String?
        /// (time, consumed) samples of the last ten seconds, for the rate.
        var samples: [(Duration, UInt64)] = []

        public static func == (a: Process, b: Process) -> Bool {
            a.pid == b.pid && a.spawnedAt == b.spawnedAt && a.generation == b.generation
        }
        public func hash(into h: inout Hasher) { h.combine(pid) }

        /// Records per second over the sampled window.
        public var recordsPerSecond: Double {
            guard let first = samples.first, let last = samples.last, last.0 > first.0 else { return 0 }
            let seconds = Double((last.0 - first.0).components.seconds)
                + Double((last.0 - first.0).components.attoseconds) / 1e18
            return Double(last.1 &- first.1) / seconds
        }
    }

    /// One worker slot: its process (at most one), its restart accounting.
    public struct Slot: Hashable, Sendable {
        public var index: Int
        public var wanted: Bool
        public var process: Process?
        /// A spawn was requested and its outcome not reported yet.
        public var spawning = false
        public var respawnAt: Duration?
        public var failedReason: String?
        /// Unplanned exits since the daemon started.
        public var restarts = 0
        public var consecutiveFailures = 0
        public var nextBackoff: Duration
        public var lastExit: ExitStatus?
        /// `consecutiveFailures` reached the crash-loop limit: still respawned, with backoff.
        public var crashLooping = false
        /// The latest error a process of this slot reported.
        public var lastError: String?
        /// The slot exited on request and must come back without backoff (reload).
        var respawnNow = false
    }

    public private(set) var policy: SupervisorPolicy
    public private(set) var now: Duration
    public private(set) var phase: Phase = .idle
    public private(set) var target = 0
    public private(set) var slots: [Slot] = []
    public private(set) var paused = false
    public private(set) var readyNotified = false
    /// Generation of the configuration: bumped on every reload.
    public private(set) var generation = 0
    public private(set) var reloading = false
    private var rollingSlot: Int?
    private var rollDeadline: Duration?
    private var armedDeadline: Duration?
    /// Counters of processes that exited (their last snapshot), so totals never go back.
    public private(set) var retiredCounters = WorkerCounters.zero
    public private(set) var startedAt: Duration
    /// The last time a wanted worker was up and answering (or nothing was wanted).
    public private(set) var lastHealthyAt: Duration
    /// The exit status once every worker stopped (0, or 75 after `exitAfterUnhealthy`).
    private var exitCodeAfterStop: Int32 = 0
    public private(set) var autoscaler: Autoscaler?

    public init(policy: SupervisorPolicy = SupervisorPolicy(), now: Duration = .zero) {
        self.policy = policy
        self.now = now
        self.startedAt = now
        self.lastHealthyAt = now
    }

    // MARK: - Events

    public mutating func handle(_ event: Event) -> [Action] {
        var out: [Action] = []
        switch event {
        case .tick(let time):
            if time > now {
                // The supervisor itself was held up (overload, SIGSTOP): its workers' messages
                // wait unread, so silence measured across the gap says nothing about them.
                if time - now > policy.workerTimeout / 2 {
                    for i in slots.indices where slots[i].process?.lastHeard != nil { slots[i].process!.lastHeard = time }
                }
                now = time
            }
            onTick(&out)
        case .start(let workers):
            guard phase == .idle else { break }
            phase = .starting
            startedAt = now
            lastHealthyAt = now
            setTarget(workers, &out)
            out.append(.log(LogEntry(.info, "starting workers", ["workers": String(target)])))
        case .spawned(let slot, let pid):
            onSpawned(slot: slot, pid: pid, &out)
        case .spawnFailed(let slot, let reason):
            onSpawnFailed(slot: slot, reason: reason, &out)
        case .ready(let pid, let assigned):
            onReady(pid: pid, assigned: assigned, &out)
        case .heard(let pid):
            guard let i = slotIndex(pid: pid) else { break }
            slots[i].process!.lastHeard = now
        case .snapshot(let pid, let snapshot):
            guard let i = slotIndex(pid: pid) else { break }
            slots[i].process!.lastHeard = now
            slots[i].process!.snapshot = snapshot
            slots[i].process!.assigned = snapshot.assigned
            var samples = slots[i].process!.samples
            samples.append((now, snapshot.counters.consumed))
            while let first = samples.first, now - first.0 > .seconds(10), samples.count > 2 { samples.removeFirst() }
            slots[i].process!.samples = samples
        case .workerError(let pid, let message):
            guard let i = slotIndex(pid: pid) else { break }
            slots[i].process!.lastHeard = now
            slots[i].process!.lastError = message
            slots[i].lastError = message
            out.append(.log(LogEntry(.error, "worker reported an error",
                                     meta(slot: i, pid: pid).merging(["error": message]) { $1 })))
        case .exited(let pid, let status):
            onExited(pid: pid, status: status, &out)
        case .signal(let signal):
            if phase == .stopping {
                if signal == .interrupt { killAll(&out) }
            } else {
                out.append(.log(LogEntry(.notice, "stopping: draining workers",
                                         ["signal": signal == .terminate ? "SIGTERM" : "SIGINT"])))
                beginStop(&out)
            }
        case .stop:
            if phase != .stopping {
                out.append(.log(LogEntry(.notice, "stopping on request: draining workers")))
                beginStop(&out)
            }
        case .scale(let workers):
            guard phase != .stopping && phase != .exited else { break }
            if workers != target {
                out.append(.log(LogEntry(.notice, "scaling workers", ["from": String(target), "to": String(workers)])))
            }
            if let a = autoscaler, a.enabled {
                autoscaler!.enabled = false
                autoscaler!.lastDecision = "paused by a manual scale to \(workers)"
                out.append(.log(LogEntry(.notice, "autoscale paused by a manual scale; 'streamforgectl autoscale on' resumes it")))
            }
            setTarget(workers, &out)
        case .configureAutoscale(let config):
            if let config {
                var a = autoscaler ?? Autoscaler(config: config)
                a.config = config
                autoscaler = a
            } else {
                autoscaler = nil
            }
        case .autoscale(let enabled):
            guard autoscaler != nil, autoscaler!.enabled != enabled else { break }
            autoscaler!.enabled = enabled
            autoscaler!.resetTimers()
            autoscaler!.lastDecision = enabled ? "resumed" : "paused"
            out.append(.log(LogEntry(.notice, enabled ? "autoscale resumed" : "autoscale paused")))
        case .reload(let workers):
            guard phase != .stopping && phase != .exited else { break }
            beginReload(workers: workers, &out)
        case .pause, .resume:
            let pause = event == .pause
            guard paused != pause else { break }
            paused = pause
            out.append(.log(LogEntry(.notice, pause ? "pausing workers" : "resuming workers")))
            for slot in slots {
                if let p = slot.process, p.stopRequestedAt == nil { out.append(.send(pid: p.pid, pause ? .pause : .resume)) }
            }
        }
        reconcile(&out)
        armTimer(&out)
        return out
    }

    /// New timing rules (a reload); they apply from the next event on.
    public mutating func apply(policy: SupervisorPolicy) {
        self.policy = policy
    }

    // MARK: - Queries

    public func slotIndex(pid: Int32) -> Int? {
        slots.firstIndex { $0.process?.pid == pid }
    }

    /// Workers that are running (spawned, not asked to stop).
    public var workersUp: Int {
        slots.filter { $0.wanted && $0.process != nil && $0.process!.stopRequestedAt == nil }.count
    }

    /// The earliest time a `.tick` is needed.
    public var nextDeadline: Duration? {
        var deadline: Duration?
        func consider(_ d: Duration?) { if let d, deadline == nil || d < deadline! { deadline = d } }
        for slot in slots {
            consider(slot.respawnAt)
            if let p = slot.process, !p.killed {
                consider(p.killDeadline)
                consider(silenceDeadline(p))
                if let heard = p.lastHeard, now - heard < policy.staleAfter { consider(heard + policy.staleAfter) }
            }
        }
        consider(rollDeadline)
        if let a = autoscaler, a.enabled {
            // Only future times: a decision held back (at min, at max) must not keep the
            // deadline in the past, which would make the loop spin.
            let hold = Duration.seconds(a.config.forSeconds)
            for t in [a.aboveSince.map { $0 + hold }, a.belowSince.map { $0 + hold }, a.cooldownUntil] {
                if let t, t > now { consider(t) }
            }
        }
        // A crash-looping slot whose process has stayed up is healthy again at this time.
        for slot in slots where slot.crashLooping {
            if let p = slot.process, p.spawnedAt + policy.healthyPeriod > now { consider(p.spawnedAt + policy.healthyPeriod) }
        }
        if let limit = policy.exitAfterUnhealthy, phase == .starting || phase == .running { consider(lastHealthyAt + limit) }
        return deadline
    }

    /// Counters of every process since the daemon started.
    public var totalCounters: WorkerCounters {
        slots.reduce(retiredCounters) { $0 + ($1.process?.snapshot?.counters ?? .zero) }
    }

    /// Partitions and lag of every live worker.
    public var totalLag: Int64 {
        freshProcesses().reduce(0) { $0 &+ ($1.snapshot?.totalLag ?? 0) }
    }

    /// Partitions assigned to the workers whose data is current, each counted once (a
    /// partition that moved shows in the old owner's last snapshot until it reports again).
    public var assignedPartitions: Set<TopicPartition> {
        var set = Set<TopicPartition>()
        for p in freshProcesses() { set.formUnion(p.snapshot?.assigned ?? p.assigned) }
        return set
    }

    public var recordsPerSecond: Double {
        slots.reduce(0) { $0 + ($1.process?.recordsPerSecond ?? 0) }
    }

    public var failedSlots: [Slot] { slots.filter { $0.wanted && $0.failedReason != nil } }

    public var crashLoopingSlots: [Slot] { slots.filter { $0.wanted && $0.crashLooping && $0.failedReason == nil } }

    /// When a running process's silence makes it killed; nil while it is stopping.
    func silenceDeadline(_ p: Process) -> Duration? {
        guard p.stopRequestedAt == nil, !p.killed else { return nil }
        // Draining on its own (a delivery failure, a signal from outside): its final commit
        // may wait on the coordinator; it gets the time a requested drain gets.
        if p.snapshot?.state == .draining, let heard = p.lastHeard { return heard + max(policy.workerTimeout, policy.stopTimeout) }
        if let heard = p.lastHeard { return heard + policy.workerTimeout }
        return p.spawnedAt + policy.firstMessageTimeout
    }

    /// True when the process has been silent longer than `staleAfter`: what it last said is
    /// no longer current.
    public func isStale(_ p: Process) -> Bool {
        guard let heard = p.lastHeard else { return false }
        return now - heard >= policy.staleAfter
    }

    /// Live workers whose data is current (not stale).
    func freshProcesses() -> [Process] {
        slots.compactMap { slot in slot.process.flatMap { isStale($0) ? nil : $0 } }
    }

    // MARK: - Transitions

    private func meta(slot: Int, pid: Int32?) -> [String: String] {
        var m = ["sf.worker.slot": String(slot)]
        if let pid { m["sf.worker.pid"] = String(pid) }
        return m
    }

    private mutating func setTarget(_ workers: Int, _ out: inout [Action]) {
        target = max(0, workers)
        while slots.count < target {
            slots.append(Slot(index: slots.count, wanted: true, nextBackoff: policy.initialBackoff))
        }
        for i in slots.indices {
            let wanted = i < target
            if wanted && !slots[i].wanted {
                slots[i].wanted = true
                slots[i].respawnNow = true
            } else if !wanted && slots[i].wanted {
                slots[i].wanted = false
                slots[i].respawnAt = nil
                slots[i].failedReason = nil
                slots[i].consecutiveFailures = 0
                slots[i].crashLooping = false
                slots[i].nextBackoff = policy.initialBackoff
            }
        }
    }

    private mutating func onSpawned(slot i: Int, pid: Int32, _ out: inout [Action]) {
        guard slots.indices.contains(i) else { return }
        slots[i].spawning = false
        slots[i].process = Process(pid: pid, spawnedAt: now, generation: generation)
        out.append(.log(LogEntry(.info, "worker started", meta(slot: i, pid: pid))))
        if !slots[i].wanted || phase == .stopping {
            requestStop(i, leaveGroup: !slots[i].wanted, &out)
        } else if paused {
            out.append(.send(pid: pid, .pause))
        }
    }

    private mutating func onSpawnFailed(slot i: Int, reason: String, _ out: inout [Action]) {
        guard slots.indices.contains(i) else { return }
        slots[i].spawning = false
        var m = meta(slot: i, pid: nil)
        m["error"] = reason
        if !slots[i].wanted || phase == .stopping { return }
        let next = recordFailure(i, status: nil, uptime: nil)
        out.append(.log(LogEntry(.error, "unable to start worker, \(next)", m)))
    }

    private mutating func onReady(pid: Int32, assigned: [TopicPartition], _ out: inout [Action]) {
        guard let i = slotIndex(pid: pid) else { return }
        slots[i].process!.lastHeard = now
        // Newer than any snapshot so far (those were taken before the assignment): status must
        // not show the worker idle until its next snapshot.
        slots[i].process!.assigned = assigned
        slots[i].process!.snapshot?.assigned = assigned
        guard !slots[i].process!.ready else { return }
        slots[i].process!.ready = true
        var m = meta(slot: i, pid: pid)
        m["partitions"] = String(assigned.count)
        out.append(.log(LogEntry(.info, assigned.isEmpty ? "worker ready (idle: no partition assigned)" : "worker ready", m)))
    }

    /// Accounts an unplanned exit (or a failed spawn); returns the next step, for the log line.
    private mutating func recordFailure(_ i: Int, status: ExitStatus?, uptime: Duration?) -> String {
        slots[i].restarts += 1
        if status == .exited(ExitCode.config.rawValue) {
            slots[i].failedReason = "configuration error (exit 78)"
            return "not respawning: configuration error"
        }
        if let uptime, uptime >= policy.healthyPeriod {
            slots[i].consecutiveFailures = 0
            slots[i].crashLooping = false
            slots[i].nextBackoff = policy.initialBackoff
        }
        slots[i].consecutiveFailures += 1
        let delay = slots[i].nextBackoff
        slots[i].respawnAt = now + delay
        slots[i].nextBackoff = min(delay * 2, policy.maxBackoff)
        if slots[i].consecutiveFailures >= policy.crashLoopLimit {
            slots[i].crashLooping = true
            return "crash-looping (\(slots[i].consecutiveFailures) failures in a row), respawning in \(Self.format(delay))"
        }
        return "respawning in \(Self.format(delay))"
    }

    private mutating func onExited(pid: Int32, status: ExitStatus, _ out: inout [Action]) {
        guard let i = slotIndex(pid: pid) else {
            out.append(.log(LogEntry(.debug, "reaped unknown child", ["pid": String(pid), "status": status.description])))
            return
        }
        let process = slots[i].process!
        slots[i].process = nil
        slots[i].lastExit = status
        retiredCounters += process.snapshot?.counters ?? .zero
        var m = meta(slot: i, pid: pid)
        m["status"] = status.description
        var head = "worker \(i) (pid \(pid)) \(status.phrase)"
        let requested = process.stopRequestedAt != nil
        if let reason = process.killReason {
            head += " (killed by the supervisor: \(reason))"
        } else if case .signaled(let signal) = status, !process.killed, !requested {
            head += " (\(ExitStatus.signalName(signal)): \(ExitStatus.crashSignals.contains(signal) ? "the worker crashed" : "sent from outside the supervisor, by an operator or the kernel's OOM killer"))"
        }
        if phase == .stopping || !slots[i].wanted {
            out.append(.log(LogEntry(status == .exited(0) ? .info : .warning, "\(head), stopped", m)))
            return
        }
        if requested {
            // Drained for a reload: back at once, with the new configuration.
            slots[i].respawnNow = true
            out.append(.log(LogEntry(.info, "\(head), restarting with the new configuration", m)))
            return
        }
        let next = recordFailure(i, status: status, uptime: now - process.spawnedAt)
        let failed = slots[i].failedReason != nil
        out.append(.log(LogEntry(failed ? .error : .warning, "\(head), \(next)", m)))
    }

    /// `leaveGroup` for a slot that goes away (scale-down): its partitions should move now.
    private mutating func requestStop(_ i: Int, leaveGroup: Bool = false, _ out: inout [Action]) {
        guard var p = slots[i].process, p.stopRequestedAt == nil else { return }
        p.stopRequestedAt = now
        p.killDeadline = now + policy.stopTimeout
        slots[i].process = p
        out.append(.send(pid: p.pid, leaveGroup ? .leave : .drain))
        out.append(.kill(pid: p.pid, .terminate))
        out.append(.log(LogEntry(.info, "draining worker", meta(slot: i, pid: p.pid))))
    }

    private mutating func beginStop(_ out: inout [Action]) {
        phase = .stopping
        reloading = false
        rollingSlot = nil
        rollDeadline = nil
        out.append(.notify(.stopping))
        for i in slots.indices {
            slots[i].respawnAt = nil
            requestStop(i, &out)
        }
    }

    private mutating func killAll(_ out: inout [Action]) {
        for i in slots.indices {
            guard var p = slots[i].process, !p.killed else { continue }
            p.killed = true
            slots[i].process = p
            out.append(.kill(pid: p.pid, .kill))
            out.append(.log(LogEntry(.warning, "killing worker", meta(slot: i, pid: p.pid))))
        }
    }

    private mutating func beginReload(workers: Int, _ out: inout [Action]) {
        generation += 1
        reloading = true
        rollingSlot = nil
        rollDeadline = nil
        for i in slots.indices where slots[i].failedReason != nil || slots[i].respawnAt != nil {
            slots[i].failedReason = nil
            slots[i].respawnAt = nil
            slots[i].consecutiveFailures = 0
            slots[i].crashLooping = false
            slots[i].nextBackoff = policy.initialBackoff
        }
        if workers != target {
            out.append(.log(LogEntry(.notice, "scaling workers", ["from": String(target), "to": String(workers)])))
        }
        setTarget(workers, &out)
        out.append(.log(LogEntry(.notice, "reloading: rolling workers one at a time", ["generation": String(generation)])))
    }

    private mutating func onTick(_ out: inout [Action]) {
        for i in slots.indices {
            guard var p = slots[i].process, let deadline = silenceDeadline(p), deadline <= now else { continue }
            let silent = now - (p.lastHeard ?? p.spawnedAt)
            let reason = p.lastHeard == nil ? "no message \(Self.format(silent)) after start"
                : "no message for \(Self.format(silent)), hung or stopped"
            p.killed = true
            p.killReason = reason
            slots[i].process = p
            out.append(.kill(pid: p.pid, .kill))
            out.append(.log(LogEntry(.error, "worker \(i) (pid \(p.pid)) is unresponsive (\(reason)), killing it",
                                     meta(slot: i, pid: p.pid).merging(["timeout": Self.format(policy.workerTimeout)]) { $1 })))
        }
        for i in slots.indices where slots[i].crashLooping {
            guard let p = slots[i].process, p.ready, now - p.spawnedAt >= policy.healthyPeriod else { continue }
            slots[i].crashLooping = false
            slots[i].consecutiveFailures = 0
            slots[i].nextBackoff = policy.initialBackoff
            out.append(.log(LogEntry(.notice, "worker \(i) (pid \(p.pid)) is healthy again after its crash loop", meta(slot: i, pid: p.pid))))
        }
        checkHealth(&out)
        autoscale(&out)
        for i in slots.indices {
            guard var p = slots[i].process, !p.killed, let deadline = p.killDeadline, deadline <= now else { continue }
            p.killed = true
            slots[i].process = p
            out.append(.kill(pid: p.pid, .kill))
            out.append(.log(LogEntry(.warning, "worker did not drain in time, killing it",
                                     meta(slot: i, pid: p.pid).merging(["timeout": Self.format(policy.stopTimeout)]) { $1 })))
        }
    }

    /// Brings the processes in line with the wanted state; called after every event.
    private mutating func reconcile(_ out: inout [Action]) {
        if phase == .exited || phase == .idle { return }
        if phase != .stopping {
            for i in slots.indices {
                let slot = slots[i]
                if !slot.wanted {
                    if slot.process != nil { requestStop(i, leaveGroup: true, &out) }
                    continue
                }
                guard slot.process == nil, !slot.spawning, slot.failedReason == nil else { continue }
                if slot.respawnNow {
                    slots[i].respawnNow = false
                    slots[i].respawnAt = nil
                } else if let at = slot.respawnAt {
                    guard at <= now else { continue }
                    slots[i].respawnAt = nil
                }
                slots[i].spawning = true
                out.append(.spawn(slot: i))
            }
            // Forget slots beyond the target once their process is gone.
            while let last = slots.last, !last.wanted, last.process == nil, !last.spawning { slots.removeLast() }
            if reloading { rollStep(&out) }
            checkReady(&out)
            // Every wanted slot refused its configuration: nothing can run, let systemd know.
            if target > 0, slots.allSatisfy({ !$0.wanted || ($0.process == nil && $0.failedReason != nil) }),
               slots.filter({ $0.wanted }).allSatisfy({ $0.lastExit == .exited(ExitCode.config.rawValue) }) {
                out.append(.log(LogEntry(.error, "every worker failed with a configuration error, exiting")))
                phase = .exited
                out.append(.exit(code: ExitCode.config.rawValue))
            }
        } else if slots.allSatisfy({ $0.process == nil && !$0.spawning }) {
            phase = .exited
            out.append(.log(LogEntry(.notice, "all workers stopped")))
            out.append(.exit(code: exitCodeAfterStop))
        }
    }

    /// One autoscaling step: add or remove a worker when the lag stayed beyond a limit.
    private mutating func autoscale(_ out: inout [Action]) {
        guard var a = autoscaler, a.enabled else { return }
        defer { autoscaler = a }
        let wanted = slots.filter(\.wanted)
        // Decide only on a settled, reporting group: a restart or a roll distorts the lag.
        let settled = phase == .running && !reloading && !paused && !wanted.isEmpty && wanted.allSatisfy { slot in
            guard let p = slot.process, p.ready, p.stopRequestedAt == nil, !isStale(p) else { return false }
            // A stalled target makes lag that more workers cannot take away.
            return p.snapshot != nil && p.snapshot?.state != .stalled
        }
        guard settled else {
            a.resetTimers()
            return
        }
        if let until = a.cooldownUntil, now >= until { a.cooldownUntil = nil }
        let lag = totalLag
        let hold = Duration.seconds(a.config.forSeconds)
        if lag > a.config.scaleUpLag {
            a.belowSince = nil
            let since = a.aboveSince ?? now
            a.aboveSince = since
            guard now - since >= hold, a.cooldownUntil.map({ now >= $0 }) ?? true else { return }
            let idle = wanted.filter { ($0.process?.snapshot?.assigned ?? $0.process?.assigned ?? []).isEmpty }
            if target >= a.config.max || !idle.isEmpty {
                let why = target >= a.config.max ? "at max (\(a.config.max))"
                    : "worker \(idle[0].index) has no partition: another would idle too"
                if a.heldBack != why {
                    a.heldBack = why
                    a.lastDecision = "lag \(lag) above \(a.config.scaleUpLag), not scaling up: \(why)"
                    out.append(.log(LogEntry(.notice, "autoscale: \(a.lastDecision!)")))
                }
                return
            }
            decide(&a, to: target + 1, "lag \(lag) above \(a.config.scaleUpLag) for \(Self.format(now - since))", &out)
        } else if lag < a.config.scaleDownLag {
            a.aboveSince = nil
            a.heldBack = nil
            let since = a.belowSince ?? now
            a.belowSince = since
            guard now - since >= hold, a.cooldownUntil.map({ now >= $0 }) ?? true, target > a.config.min else { return }
            decide(&a, to: target - 1, "lag \(lag) below \(a.config.scaleDownLag) for \(Self.format(now - since))", &out)
        } else {
            a.resetTimers()
            a.heldBack = nil
        }
    }

    private mutating func decide(_ a: inout Autoscaler, to workers: Int, _ reason: String, _ out: inout [Action]) {
        a.lastDecision = "\(reason): \(target) → \(workers) workers"
        a.resetTimers()
        a.heldBack = nil
        a.cooldownUntil = now + .seconds(a.config.cooldownSeconds)
        out.append(.log(LogEntry(.notice, "autoscale: \(a.lastDecision!)", ["from": String(target), "to": String(workers)])))
        setTarget(workers, &out)
    }

    /// Tracks when a worker was last healthy; exits (75) after `exitAfterUnhealthy` without one.
    private mutating func checkHealth(_ out: inout [Action]) {
        guard phase == .starting || phase == .running else { return }
        let wanted = slots.filter(\.wanted)
        // A roll restarts workers on purpose: not a reason to give up.
        let healthy = reloading || wanted.isEmpty || wanted.contains { slot in
            guard let p = slot.process, p.ready, !p.killed, p.stopRequestedAt == nil else { return false }
            return !isStale(p)
        }
        if healthy {
            lastHealthyAt = now
            return
        }
        guard let limit = policy.exitAfterUnhealthy, now - lastHealthyAt >= limit else { return }
        out.append(.log(LogEntry(.error, "no healthy worker for \(Self.format(now - lastHealthyAt)), exiting so that the service manager restarts the daemon",
                                 ["exit_after_unhealthy": Self.format(limit)])))
        exitCodeAfterStop = ExitCode.temporary.rawValue
        beginStop(&out)
    }

    private mutating func checkReady(_ out: inout [Action]) {
        guard !readyNotified, !reloading else { return }
        let wanted = slots.filter(\.wanted)
        let allSettled = wanted.allSatisfy { ($0.process?.ready ?? false) || $0.failedReason != nil }
        let anyReady = wanted.contains { $0.process?.ready ?? false }
        guard allSettled && (anyReady || wanted.isEmpty) else { return }
        readyNotified = true
        phase = .running
        out.append(.notify(.ready))
        out.append(.log(LogEntry(.notice, "all workers ready", ["workers": String(wanted.count)])))
    }

    private mutating func rollStep(_ out: inout [Action]) {
        if let i = rollingSlot {
            let done: Bool
            if slots.indices.contains(i), slots[i].wanted, let reason = slots[i].failedReason,
               slots[i].process == nil {
                // The first worker on the new configuration failed for good: stop the roll so
                // the others keep running on the previous one instead of failing in turn.
                rollingSlot = nil
                rollDeadline = nil
                reloading = false
                readyNotified = true
                if phase == .starting { phase = .running }
                out.append(.notify(.ready))
                out.append(.log(LogEntry(.error, "reload stopped: worker failed with the new configuration, the others keep the previous one",
                                         meta(slot: i, pid: nil).merging(["reason": reason]) { $1 })))
                return
            } else if !slots.indices.contains(i) || !slots[i].wanted || slots[i].failedReason != nil {
                done = true
            } else if let p = slots[i].process, p.generation == generation, p.ready {
                done = true
            } else if let deadline = rollDeadline, now >= deadline {
                out.append(.log(LogEntry(.warning, "reload: worker not ready in time, moving on", meta(slot: i, pid: slots[i].process?.pid))))
                done = true
            } else {
                done = false
            }
            guard done else { return }
            rollingSlot = nil
            rollDeadline = nil
        }
        if let i = slots.indices.first(where: { slots[$0].wanted && slots[$0].failedReason == nil
                && slots[$0].process.map { $0.generation < generation && $0.stopRequestedAt == nil } ?? false }) {
            rollingSlot = i
            rollDeadline = now + policy.stopTimeout + policy.readyTimeout
            requestStop(i, &out)
            return
        }
        // Nothing left on the old generation.
        guard !slots.contains(where: { $0.process.map { $0.generation < generation } ?? false }) else { return }
        reloading = false
        readyNotified = true
        if phase == .starting { phase = .running }
        out.append(.notify(.ready))
        out.append(.log(LogEntry(.notice, "reload complete", ["generation": String(generation)])))
    }

    private mutating func armTimer(_ out: inout [Action]) {
        let deadline = nextDeadline
        if let deadline, deadline != armedDeadline {
            out.append(.armTimer(at: deadline))
        }
        armedDeadline = deadline
    }

    static func format(_ d: Duration) -> String { d.secondsText }
}

/// Autoscaling by lag: the settings and what the supervisor is waiting for.
public struct Autoscaler: Hashable, Sendable {
    public var config: AutoscaleConfig
    /// Off after a manual `scale`, until `autoscale on`.
    public var enabled = true
    var aboveSince: Duration?
    var belowSince: Duration?
    var cooldownUntil: Duration?
    /// Why it does not scale up although the lag is high (logged once per reason).
    var heldBack: String?
    /// The last decision, or why none was taken, for `status`.
    public var lastDecision: String?

    public init(config: AutoscaleConfig) {
        self.config = config
    }

    mutating func resetTimers() {
        aboveSince = nil
        belowSince = nil
    }

    /// The workers to run for `wanted` (the configuration's count): within min…max.
    public func clamp(_ wanted: Int) -> Int { Swift.min(Swift.max(wanted, config.min), config.max) }
}
