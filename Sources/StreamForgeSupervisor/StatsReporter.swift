// Turns the machine's aggregated counters into the lines operators read: the periodic `Stats:`
// log line, systemd's one-line STATUS=, and the `status` report.

import StreamForgeCore
public import StreamForgeIPC

/// The `Stats:` line, every `stats_interval`:
/// `Stats: processed=N (R/s), filtered=N (R/s), transformed=N (R/s), completed=N (R/s), errors=N (R/s)`
/// processed = records consumed, completed = records acknowledged by the target (every
/// destination), rates over the interval since the previous line.
public struct StatsLine: Sendable {
    private var previous: WorkerCounters?
    private var previousAt: Duration?

    public init() {}

    public mutating func line(totals: WorkerCounters, now: Duration) -> String {
        let seconds: Double
        if let previousAt, now > previousAt {
            let d = (now - previousAt).components
            seconds = Double(d.seconds) + Double(d.attoseconds) / 1e18
        } else {
            seconds = 0
        }
        let before = previous ?? totals
        func field(_ name: String, _ value: KeyPath<WorkerCounters, UInt64>) -> String {
            let current = totals[keyPath: value]
            let delta = current >= before[keyPath: value] ? current - before[keyPath: value] : 0
            let rate = seconds > 0 ? Double(delta) / seconds : 0
            return "\(name)=\(current) (\(StatusReport.formatRate(rate))/s)"
        }
        previous = totals
        previousAt = now
        return "Stats: " + [
            field("processed", \.consumed),
            field("filtered", \.filtered),
            field("transformed", \.transformed),
            field("completed", \.producedTotal),
            field("errors", \.errors),
        ].joined(separator: ", ")
    }
}

extension SupervisorMachine {
    /// systemd's STATUS= line: "3/3 workers up, 1520 records/s, lag 42", plus what is wrong.
    public func statusLine() -> String {
        var parts = ["\(workersUp)/\(target) workers up",
                     "\(StatusReport.formatRate(recordsPerSecond)) records/s",
                     "lag \(totalLag)"]
        let failed = failedSlots.map(\.index)
        if !failed.isEmpty {
            parts.append("failed: worker " + failed.map(String.init).joined(separator: ", "))
        }
        let looping = crashLoopingSlots
        if !looping.isEmpty {
            parts.append("crash-looping: " + looping.map { slot in
                "worker \(slot.index)" + (slot.lastExit.map { " (last \($0))" } ?? "")
            }.joined(separator: ", "))
        }
        let unresponsive = slots.filter { $0.process.map { isStale($0) && !$0.killed } ?? false }.map(\.index)
        if !unresponsive.isEmpty {
            parts.append("unresponsive: worker " + unresponsive.map(String.init).joined(separator: ", "))
        }
        let stalled = slots.filter { $0.process?.snapshot?.state == .stalled && !isStale($0.process!) }
        if !stalled.isEmpty {
            let waiting = stalled.reduce(0) { $0 + ($1.process?.snapshot?.inFlight ?? 0) }
            parts.append("stalled: worker " + stalled.map { String($0.index) }.joined(separator: ", ")
                         + " (\(waiting) records waiting for the target)")
        }
        if phase == .stopping { parts.insert("stopping", at: 0) }
        else if reloading { parts.insert("reloading", at: 0) }
        else if paused { parts.insert("paused", at: 0) }
        return parts.joined(separator: ", ")
    }

    public func daemonState() -> DaemonState {
        switch phase {
        case .stopping, .exited: return .stopping
        case .idle, .starting: return reloading ? .reloading : .starting
        case .running:
            if reloading { return .reloading }
            if paused { return .paused }
            let wanted = slots.filter(\.wanted)
            let healthy = wanted.allSatisfy { slot in
                guard let p = slot.process, slot.failedReason == nil, !slot.crashLooping else { return false }
                return !isStale(p) && p.snapshot?.state != .stalled
            }
            return healthy ? .running : .degraded
        }
    }

    /// The `status` reply.
    public func statusReport(pid: Int32, version: String, configPath: String, appid: String) -> StatusReport {
        var workers: [WorkerStatus] = []
        var idle = 0
        for slot in slots {
            var w = WorkerStatus(slot: slot.index, state: .stopped, restarts: slot.restarts,
                                 lastExit: slot.lastExit?.description, lastError: slot.lastError)
            if let p = slot.process {
                w.pid = p.pid
                w.uptimeSeconds = Self.seconds(now - p.spawnedAt)
                w.partitions = p.snapshot?.assigned ?? p.assigned
                w.recordsPerSecond = p.recordsPerSecond
                w.lag = p.snapshot?.totalLag ?? 0
                w.failedPartitions = p.snapshot?.failed ?? []
                w.inFlight = p.snapshot?.inFlight ?? 0
                w.oldestUndeliveredSeconds = p.snapshot?.oldestInFlightMs.map { Double($0) / 1000 }
                w.message = p.lastError
                if p.stopRequestedAt != nil {
                    w.state = .draining
                } else if isStale(p) {
                    // What it said last is no longer current: not counted in the totals.
                    w.state = .unresponsive
                    w.silentSeconds = p.lastHeard.map { Self.seconds(now - $0) }
                    w.lag = 0
                } else if !p.ready {
                    w.state = slot.crashLooping ? .crashLooping : .starting
                } else {
                    switch p.snapshot?.state {
                    case .paused?: w.state = .paused
                    case .draining?: w.state = .draining
                    case .failed?: w.state = .failed
                    case .stalled?: w.state = .stalled
                    default:
                        w.state = w.partitions.isEmpty ? .idle : .running
                    }
                }
                if w.state == .idle { idle += 1 }
            } else if let reason = slot.failedReason {
                w.state = .failed
                w.message = reason
            } else if let at = slot.respawnAt {
                w.state = slot.crashLooping ? .crashLooping : .backoff
                w.respawnInSeconds = Self.seconds(at - now)
            } else if slot.spawning {
                w.state = .starting
            }
            workers.append(w)
        }
        var notes: [String] = []
        if idle > 0 {
            notes.append("\(idle) worker\(idle == 1 ? "" : "s") idle: more workers than partitions")
        }
        if idle > 0, let a = autoscaler, a.enabled {
            notes.append("autoscale does not add workers while one idles")
        }
        let fresh = workers.filter { $0.state != .unresponsive }
        let totals = StatusTotals(counters: totalCounters, recordsPerSecond: recordsPerSecond, lag: totalLag,
                                  assignedPartitions: assignedPartitions.count,
                                  inFlight: fresh.reduce(0) { $0 + $1.inFlight },
                                  oldestUndeliveredSeconds: fresh.compactMap(\.oldestUndeliveredSeconds).max())
        var report = StatusReport(state: daemonState(), pid: pid, version: version, uptimeSeconds: Self.seconds(now - startedAt),
                                  configPath: configPath, appid: appid, workersTarget: target, workersUp: workersUp,
                                  workers: workers, totals: totals, notes: notes)
        report.autoscale = autoscaler.map { AutoscaleStatus(enabled: $0.enabled, config: $0.config, lastDecision: $0.lastDecision) }
        return report
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
