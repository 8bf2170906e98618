// What `streamforgectl status` shows: the daemon, each worker slot, and group totals.
// The same structure is the `result` of the control protocol's `status` reply (`--json`).

public import StreamForgeCore

/// The daemon as a whole.
public enum DaemonState: String, Codable, Hashable, Sendable {
    /// Workers are being started; not every worker reported ready yet.
    case starting
    /// Every wanted worker is up and ready.
    case running
    /// Some wanted worker is down, backing off or failed.
    case degraded
    /// Workers are paused on request.
    case paused
    /// A reload is rolling the workers.
    case reloading
    /// Draining every worker before exit.
    case stopping
}

/// One worker slot.
public struct WorkerStatus: Codable, Hashable, Sendable {
    public enum State: String, Codable, Hashable, Sendable {
        /// Spawned, not ready yet.
        case starting
        /// Ready, consuming.
        case running
        /// Records wait for the target and none was acknowledged for `stall_timeout`.
        case stalled
        /// Sent nothing for a while (hung, stopped, or overloaded); its last data is stale
        /// and not counted in the totals. Killed and respawned at `worker_timeout`.
        case unresponsive
        /// Ready with an empty assignment: more workers than partitions.
        case idle
        case paused
        /// Asked to drain (scale down, reload, stop).
        case draining
        /// Exited; waiting for its backoff before the respawn.
        case backoff
        /// Exited again and again without staying up: respawned with a backoff capped at
        /// `restart_backoff_max`; `lastExit` says how the last one ended.
        case crashLooping = "crash-looping"
        /// Not respawned: configuration error (exit 78), or `error_policy: fail`.
        case failed
        /// Not running and not wanted.
        case stopped
    }

    public var slot: Int
    public var pid: Int32?
    public var state: State
    public var restarts: Int
    public var uptimeSeconds: Double?
    public var partitions: [TopicPartition]
    /// Records consumed per second over the last stats window.
    public var recordsPerSecond: Double
    public var lag: Int64
    /// How the previous process of this slot ended ("exit 1", "signal 9"), if any.
    public var lastExit: String?
    /// Why the slot is failed, or the latest error the worker reported.
    public var message: String?
    /// Seconds until the respawn, when backing off.
    public var respawnInSeconds: Double?
    public var failedPartitions: [FailedPartition]
    /// Records consumed and not yet acknowledged by every destination.
    public var inFlight: Int
    /// Age of the oldest of them, in seconds.
    public var oldestUndeliveredSeconds: Double?
    /// Seconds since the worker last reported, when it is late (unresponsive).
    public var silentSeconds: Double?
    /// The latest error the worker reported (also after it was restarted).
    public var lastError: String?

    public init(slot: Int, pid: Int32? = nil, state: State, restarts: Int = 0, uptimeSeconds: Double? = nil,
                partitions: [TopicPartition] = [], recordsPerSecond: Double = 0, lag: Int64 = 0,
                lastExit: String? = nil, message: String? = nil, respawnInSeconds: Double? = nil,
                failedPartitions: [FailedPartition] = [], inFlight: Int = 0, oldestUndeliveredSeconds: Double? = nil,
                silentSeconds: Double? = nil, lastError: String? = nil) {
        self.slot = slot
        self.pid = pid
        self.state = state
        self.restarts = restarts
        self.uptimeSeconds = uptimeSeconds
        self.partitions = partitions
        self.recordsPerSecond = recordsPerSecond
        self.lag = lag
        self.lastExit = lastExit
        self.message = message
        self.respawnInSeconds = respawnInSeconds
        self.failedPartitions = failedPartitions
        self.inFlight = inFlight
        self.oldestUndeliveredSeconds = oldestUndeliveredSeconds
        self.silentSeconds = silentSeconds
        self.lastError = lastError
    }
}

/// Autoscaling as `status` shows it: the settings, whether it is on, its last decision.
public struct AutoscaleStatus: Codable, Hashable, Sendable {
    public var enabled: Bool
    public var config: AutoscaleConfig
    public var lastDecision: String?

    public init(enabled: Bool, config: AutoscaleConfig, lastDecision: String?) {
        self.enabled = enabled
        self.config = config
        self.lastDecision = lastDecision
    }
}

/// Group totals since the daemon started (exited workers included).
public struct StatusTotals: Codable, Hashable, Sendable {
    public var counters: WorkerCounters
    public var recordsPerSecond: Double
    public var lag: Int64
    /// Distinct partitions assigned to the workers whose data is current.
    public var assignedPartitions: Int
    public var inFlight: Int
    public var oldestUndeliveredSeconds: Double?

    public init(counters: WorkerCounters = .zero, recordsPerSecond: Double = 0, lag: Int64 = 0, assignedPartitions: Int = 0,
                inFlight: Int = 0, oldestUndeliveredSeconds: Double? = nil) {
        self.counters = counters
        self.recordsPerSecond = recordsPerSecond
        self.lag = lag
        self.assignedPartitions = assignedPartitions
        self.inFlight = inFlight
        self.oldestUndeliveredSeconds = oldestUndeliveredSeconds
    }
}

public struct StatusReport: Codable, Hashable, Sendable {
    public var state: DaemonState
    public var pid: Int32
    public var version: String
    public var uptimeSeconds: Double
    public var configPath: String
    public var appid: String
    public var workersTarget: Int
    public var workersUp: Int
    public var workers: [WorkerStatus]
    public var totals: StatusTotals
    /// Things the operator should know ("2 workers idle: more workers than partitions").
    public var notes: [String]
    /// The control socket the daemon listens on.
    public var controlSocket: String?
    /// The metrics URL, when served.
    public var metrics: String?
    /// Autoscaling, when configured.
    public var autoscale: AutoscaleStatus?

    public init(state: DaemonState, pid: Int32, version: String, uptimeSeconds: Double, configPath: String,
                appid: String, workersTarget: Int, workersUp: Int, workers: [WorkerStatus],
                totals: StatusTotals, notes: [String] = []) {
        self.state = state
        self.pid = pid
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.configPath = configPath
        self.appid = appid
        self.workersTarget = workersTarget
        self.workersUp = workersUp
        self.workers = workers
        self.totals = totals
        self.notes = notes
    }

    /// The human-readable form of `streamforgectl status`.
    public func renderText() -> String {
        var out = ""
        out += "streamforged \(version) (pid \(pid)): \(state.rawValue), up \(Self.formatDuration(uptimeSeconds))\n"
        out += "config:  \(configPath) (appid \(appid))\n"
        if let controlSocket { out += "control: \(controlSocket)\n" }
        if let metrics { out += "metrics: \(metrics)\n" }
        if let a = autoscale {
            let c = a.config
            out += "autoscale: \(a.enabled ? "on" : "paused (streamforgectl autoscale on)"), \(c.min)…\(c.max) workers, "
                + "one more above lag \(c.scaleUpLag), one less below \(c.scaleDownLag), after \(c.forSeconds)s\n"
            if let last = a.lastDecision { out += "           last: \(last)\n" }
        }
        out += "workers: \(workersUp)/\(workersTarget) up\n"
        out += "\n"
        let header = ["SLOT", "PID", "STATE", "RESTARTS", "PARTITIONS", "REC/S", "LAG", "IN FLIGHT", "OLDEST", "LAST EXIT"]
        var rows: [[String]] = [header]
        for w in workers {
            var state = w.state.rawValue
            if let respawn = w.respawnInSeconds { state += " (\(Self.formatDuration(respawn)))" }
            if let silent = w.silentSeconds { state += " (\(Self.formatDuration(silent)))" }
            rows.append([
                String(w.slot),
                w.pid.map(String.init) ?? "-",
                state,
                String(w.restarts),
                Self.formatPartitions(w.partitions),
                Self.formatRate(w.recordsPerSecond),
                String(w.lag),
                String(w.inFlight),
                w.oldestUndeliveredSeconds.map { Self.formatDuration($0) } ?? "-",
                w.lastExit ?? "-",
            ])
        }
        rows.append(["total", "", "", String(workers.reduce(0) { $0 + $1.restarts }),
                     String(totals.assignedPartitions), Self.formatRate(totals.recordsPerSecond),
                     String(totals.lag), String(totals.inFlight),
                     totals.oldestUndeliveredSeconds.map { Self.formatDuration($0) } ?? "-", ""])
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                line += i == row.count - 1 ? cell : cell + pad + "  "
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        var messages: [String] = []
        for w in workers {
            if let m = w.message { messages.append("worker \(w.slot): \(m)") }
            for f in w.failedPartitions {
                messages.append("worker \(w.slot): partition \(f.topic)[\(f.partition)] stopped"
                                + (f.offset.map { " at offset \($0)" } ?? "") + ": \(f.reason)")
            }
        }
        if !messages.isEmpty || !notes.isEmpty {
            out += "\n"
            for m in notes + messages { out += m + "\n" }
        }
        let c = totals.counters
        out += "\ntotals: consumed=\(c.consumed) produced=\(c.producedTotal) filtered=\(c.filtered) "
            + "transformed=\(c.transformed) errors=\(c.errors) dlq=\(c.dlq) committed=\(c.committed)\n"
        return out
    }

    static func formatPartitions(_ partitions: [TopicPartition]) -> String {
        if partitions.isEmpty { return "-" }
        // topic:0,1,2 per topic, in order.
        var byTopic: [(String, [Int32])] = []
        for tp in partitions.sorted() {
            if let last = byTopic.indices.last, byTopic[last].0 == tp.topic {
                byTopic[last].1.append(tp.partition)
            } else {
                byTopic.append((tp.topic, [tp.partition]))
            }
        }
        let text = byTopic.map { "\($0.0):" + $0.1.map(String.init).joined(separator: ",") }.joined(separator: " ")
        return text.count <= 40 ? text : "\(partitions.count) partitions"
    }

    public static func formatRate(_ rate: Double) -> String {
        let rounded = (rate * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }

    public static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h\((s % 3600) / 60)m" }
        return "\(s / 86400)d\((s % 86400) / 3600)h"
    }
}
