import StreamForgeCore
@testable import StreamForgeIPC
import Testing
@testable import StreamForgeSupervisor

/// Drives a `SupervisorMachine` on a fake clock, playing the loop's part: spawns get pids.
struct Harness {
    var machine: SupervisorMachine
    var clock: Duration = .seconds(1000)
    var nextPid: Int32 = 100
    var actions: [SupervisorMachine.Action] = []
    /// Processes that stop reporting (hung, SIGSTOP); every other live process reports once a
    /// second while the clock advances, as a worker does.
    var silent: Set<Int32> = []

    init(policy: SupervisorPolicy = SupervisorPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(8),
                                                     healthyPeriod: .seconds(30), crashLoopLimit: 4,
                                                     stopTimeout: .seconds(20))) {
        machine = SupervisorMachine(policy: policy, now: .seconds(1000))
    }

    /// Delivers an event; performs spawns (as the loop would) and records every action.
    @discardableResult
    mutating func send(_ event: SupervisorMachine.Event) -> [SupervisorMachine.Action] {
        var produced = machine.handle(event)
        var all = produced
        while let i = produced.firstIndex(where: { if case .spawn = $0 { return true } else { return false } }) {
            guard case .spawn(let slot) = produced.remove(at: i) else { break }
            nextPid += 1
            let more = machine.handle(.spawned(slot: slot, pid: nextPid))
            all += more
            produced += more
        }
        actions += all
        return all
    }

    /// Moves the clock in steps of at most a second; live processes report at each step.
    mutating func advance(_ d: Duration) {
        var left = d
        while left > .zero {
            let step = min(left, .seconds(1))
            left -= step
            clock += step
            send(.tick(clock))
            for slot in machine.slots {
                if let p = slot.process, !silent.contains(p.pid), p.stopRequestedAt == nil, !p.killed {
                    send(.heard(pid: p.pid))
                }
            }
        }
    }

    func pid(_ slot: Int) -> Int32? { machine.slots.indices.contains(slot) ? machine.slots[slot].process?.pid : nil }

    mutating func readyAll() {
        for slot in machine.slots { if let p = slot.process, !p.ready { send(.ready(pid: p.pid, assigned: [])) } }
    }

    static func spawns(_ actions: [SupervisorMachine.Action]) -> [Int] {
        actions.compactMap { if case .spawn(let s) = $0 { return s } else { return nil } }
    }

    static func notifications(_ actions: [SupervisorMachine.Action]) -> [StreamForgeSupervisor.Notification] {
        actions.compactMap { if case .notify(let n) = $0 { return n } else { return nil } }
    }

    static func logs(_ actions: [SupervisorMachine.Action]) -> [String] {
        actions.compactMap { if case .log(let e) = $0 { return e.message } else { return nil } }
    }
}

@Suite struct SupervisorMachineTests {
    @Test func startsOneProcessPerSlot() {
        var h = Harness()
        let actions = h.send(.start(workers: 3))
        #expect(Harness.spawns(actions) == [0, 1, 2])
        #expect(h.machine.workersUp == 3)
    }

    @Test func readyOnlyAfterAllWorkersReady() {
        var h = Harness()
        h.send(.start(workers: 2))
        let first = h.send(.ready(pid: h.pid(0)!, assigned: [TopicPartition(topic: "t", partition: 0)]))
        #expect(Harness.notifications(first).isEmpty)
        let second = h.send(.ready(pid: h.pid(1)!, assigned: []))
        #expect(Harness.notifications(second) == [.ready])
        // Only once.
        h.send(.ready(pid: h.pid(1)!, assigned: []))
        #expect(Harness.notifications(h.actions) == [.ready])
    }

    @Test func respawnsCrashedWorkerWithBackoff() {
        var h = Harness(policy: SupervisorPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(8),
                                                 healthyPeriod: .seconds(300), crashLoopLimit: 100))
        h.send(.start(workers: 1))
        h.readyAll()
        // Doubling from 1 s, capped at 8 s; nothing is spawned before the delay is over.
        for expected in [1, 2, 4, 8, 8] as [Int64] {
            let pid = h.pid(0)!
            let exit = h.send(.exited(pid: pid, status: .signaled(9)))
            #expect(Harness.spawns(exit).isEmpty, "one process per slot: nothing until the backoff ends")
            #expect(Harness.logs(exit).contains { $0.hasPrefix("worker 0 (pid \(pid)) exited on signal 9 (SIGKILL")
                && $0.hasSuffix(", respawning in \(expected)s") })
            #expect(exit.contains(.armTimer(at: h.clock + .seconds(expected))))
            h.advance(.seconds(expected) - .milliseconds(1))
            #expect(h.pid(0) == nil)
            h.advance(.milliseconds(1))
            #expect(h.pid(0) != nil && h.pid(0) != pid)
        }
        #expect(h.machine.slots[0].restarts == 5)
    }

    @Test func backoffIsCapped() {
        var h = Harness(policy: SupervisorPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(4),
                                                 healthyPeriod: .seconds(300), crashLoopLimit: 100))
        h.send(.start(workers: 1))
        var delays: [String] = []
        for _ in 0..<5 {
            let pid = h.pid(0)!
            let out = h.send(.exited(pid: pid, status: .exited(75)))
            delays += Harness.logs(out).compactMap { $0.split(separator: "respawning in ").last.map(String.init) }
            h.advance(.seconds(10))
        }
        #expect(delays == ["1s", "2s", "4s", "4s", "4s"])
    }

    @Test func neverRespawnsExit78() {
        var h = Harness()
        h.send(.start(workers: 2))
        h.readyAll()
        let pid = h.pid(1)!
        let out = h.send(.exited(pid: pid, status: .exited(78)))
        #expect(Harness.logs(out).contains("worker 1 (pid \(pid)) exited with status 78, not respawning: configuration error"))
        h.advance(.seconds(3600))
        #expect(h.pid(1) == nil)
        #expect(h.machine.slots[1].failedReason == "configuration error (exit 78)")
        #expect(!h.actions.contains(.exit(code: 78)), "one worker still runs")
    }

    @Test func exitsWithStatus78WhenEveryWorkerRefusesTheConfiguration() {
        var h = Harness()
        h.send(.start(workers: 2))
        h.send(.exited(pid: h.pid(0)!, status: .exited(78)))
        let out = h.send(.exited(pid: h.pid(1)!, status: .exited(78)))
        #expect(out.contains(.exit(code: 78)))
    }

    @Test func aCrashLoopingSlotIsRetriedForeverAndSaysSo() {
        var h = Harness()
        h.send(.start(workers: 2))
        h.readyAll()
        var logs: [String] = []
        // Killed every 3 s, never ready in between: far past the crash-loop limit of 4.
        for _ in 0..<12 {
            guard let pid = h.pid(0) else {
                h.advance(.seconds(1))
                continue
            }
            h.advance(.seconds(3))
            logs += Harness.logs(h.send(.exited(pid: pid, status: .signaled(9))))
            let report = h.machine.statusReport(pid: 1, version: "t", configPath: "/c", appid: "a")
            if h.machine.slots[0].consecutiveFailures >= 4 {
                #expect(report.workers[0].state == .crashLooping)
                #expect(report.workers[0].lastExit == "signal 9")
                #expect(report.state == .degraded)
                #expect(h.machine.statusLine().contains("crash-looping: worker 0 (last signal 9)"))
            }
            h.advance(.seconds(9))
        }
        #expect(h.machine.slots[0].failedReason == nil, "never given up on")
        #expect(logs.contains { $0.contains("crash-looping (4 failures in a row), respawning in 8s") })
        // The backoff stays capped (8 s here), and the slot still comes back.
        #expect(h.machine.slots[0].nextBackoff == .seconds(8))
        h.advance(.seconds(8))
        #expect(h.pid(0) != nil)
        // Once it stays up for the healthy period, the crash loop is over.
        h.readyAll()
        h.advance(.seconds(31))
        let out = h.send(.exited(pid: h.pid(0)!, status: .exited(75)))
        #expect(Harness.logs(out).contains { $0.hasSuffix("respawning in 1s") })
        #expect(!h.machine.slots[0].crashLooping)
    }

    @Test func killsFromOutsideAndCrashesAreNamedInTheLog() {
        var h = Harness()
        h.send(.start(workers: 1))
        h.readyAll()
        var pid = h.pid(0)!
        let killed = Harness.logs(h.send(.exited(pid: pid, status: .signaled(9))))
        #expect(killed.contains("worker 0 (pid \(pid)) exited on signal 9 (SIGKILL: sent from outside the supervisor, by an operator or the kernel's OOM killer), respawning in 1s"))
        h.advance(.seconds(1))
        pid = h.pid(0)!
        let crashed = Harness.logs(h.send(.exited(pid: pid, status: .signaled(11))))
        #expect(crashed.contains("worker 0 (pid \(pid)) exited on signal 11 (SIGSEGV: the worker crashed), respawning in 2s"))
    }

    @Test func anUnresponsiveWorkerIsShownStaleThenKilledAndRespawned() {
        var h = Harness()
        h.send(.start(workers: 2))
        let a = TopicPartition(topic: "t", partition: 0), b = TopicPartition(topic: "t", partition: 1)
        h.send(.ready(pid: h.pid(0)!, assigned: [a]))
        h.send(.ready(pid: h.pid(1)!, assigned: [b]))
        h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .running, assigned: [a], lag: [PartitionLag(topic: "t", partition: 0, lag: 5)])))
        let stopped = h.pid(0)!
        h.silent.insert(stopped)
        // The group gives its partition to the other worker meanwhile.
        h.advance(.seconds(2))
        h.send(.snapshot(pid: h.pid(1)!, WorkerSnapshot(state: .running, assigned: [a, b])))
        h.advance(.seconds(1))
        var report = h.machine.statusReport(pid: 1, version: "t", configPath: "/c", appid: "a")
        #expect(report.workers[0].state == .unresponsive)
        #expect(report.workers[0].silentSeconds == 3)
        #expect(report.totals.assignedPartitions == 2, "t[0] counted once, from the worker that reports")
        #expect(report.totals.lag == 0, "the stale worker's lag is not current")
        #expect(report.state == .degraded)
        #expect(h.machine.statusLine().contains("unresponsive: worker 0"))
        #expect(!h.actions.contains(.kill(pid: stopped, .kill)))
        h.advance(.seconds(2))
        #expect(h.actions.contains(.kill(pid: stopped, .kill)), "killed after worker_timeout (5 s)")
        #expect(Harness.logs(h.actions).contains { $0.hasPrefix("worker 0 (pid \(stopped)) is unresponsive (no message for 5s") })
        let out = Harness.logs(h.send(.exited(pid: stopped, status: .signaled(9))))
        #expect(out.contains { $0.contains("(killed by the supervisor: no message for 5s, hung or stopped), respawning in 1s") })
        h.advance(.seconds(1))
        #expect(h.pid(0) != nil && h.pid(0) != stopped)
        report = h.machine.statusReport(pid: 1, version: "t", configPath: "/c", appid: "a")
        #expect(report.workers[0].state == .starting)
    }

    @Test func aWorkerThatNeverSaysAnythingIsKilledAfterTheStartTimeout() {
        var h = Harness()
        h.send(.start(workers: 1))
        let pid = h.pid(0)!
        h.silent.insert(pid)
        h.advance(.seconds(9))
        #expect(!h.actions.contains(.kill(pid: pid, .kill)))
        h.advance(.seconds(1))
        #expect(h.actions.contains(.kill(pid: pid, .kill)))
    }

    @Test func aDrainingWorkerIsGovernedByTheStopDeadlineNotBySilence() {
        var h = Harness()
        h.send(.start(workers: 1))
        h.readyAll()
        let pid = h.pid(0)!
        h.silent.insert(pid)
        h.send(.signal(.terminate))
        h.advance(.seconds(19))
        #expect(!h.actions.contains(.kill(pid: pid, .kill)))
        h.advance(.seconds(1))
        #expect(h.actions.contains(.kill(pid: pid, .kill)))
    }

    @Test func exitsSeventyFiveAfterTooLongWithoutAHealthyWorkerWhenAskedTo() {
        var h = Harness(policy: SupervisorPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(8), healthyPeriod: .seconds(30),
                                                 crashLoopLimit: 4, exitAfterUnhealthy: .seconds(60)))
        h.send(.start(workers: 1))
        h.readyAll()
        h.advance(.seconds(5))
        // From now on every process dies before it is ready.
        for _ in 0..<40 where !h.actions.contains(where: { if case .exit = $0 { return true } else { return false } }) {
            if let pid = h.pid(0) { h.send(.exited(pid: pid, status: .exited(75))) }
            h.advance(.seconds(2))
        }
        #expect(Harness.logs(h.actions).contains { $0.hasPrefix("no healthy worker for 60s") })
        #expect(h.actions.contains(.exit(code: 75)))
    }

    @Test func withoutTheOptionItNeverGivesUp() {
        var h = Harness()
        h.send(.start(workers: 1))
        for _ in 0..<100 {
            if let pid = h.pid(0) { h.send(.exited(pid: pid, status: .exited(75))) }
            h.advance(.seconds(10))
        }
        #expect(!h.actions.contains { if case .exit = $0 { return true } else { return false } })
    }

    @Test func stalledDeliveriesShowInStatusAndTheStatusLine() {
        var h = Harness()
        h.send(.start(workers: 1))
        let tp = TopicPartition(topic: "t", partition: 0)
        h.send(.ready(pid: h.pid(0)!, assigned: [tp]))
        h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .stalled, assigned: [tp], inFlight: 52_000,
                                                         oldestInFlightMs: 31_000, lastAckMs: 30_000)))
        let report = h.machine.statusReport(pid: 1, version: "t", configPath: "/c", appid: "a")
        #expect(report.workers[0].state == .stalled)
        #expect(report.workers[0].inFlight == 52_000)
        #expect(report.workers[0].oldestUndeliveredSeconds == 31)
        #expect(report.totals.inFlight == 52_000)
        #expect(report.state == .degraded)
        #expect(h.machine.statusLine().contains("stalled: worker 0 (52000 records waiting for the target)"))
        #expect(report.renderText().contains("52000"))
    }

    @Test func resetsBackoffAfterHealthyPeriod() {
        var h = Harness()
        h.send(.start(workers: 1))
        // Three quick crashes: backoff grows to 4 s.
        for _ in 0..<3 {
            h.send(.exited(pid: h.pid(0)!, status: .exited(1)))
            h.advance(.seconds(10))
        }
        #expect(h.machine.slots[0].nextBackoff == .seconds(8))
        #expect(h.machine.slots[0].consecutiveFailures == 3)
        // Healthy for the whole period, then a crash: back to 1 s, count starts again.
        h.advance(.seconds(30))
        let out = h.send(.exited(pid: h.pid(0)!, status: .signaled(11)))
        #expect(Harness.logs(out).contains { $0.hasSuffix("respawning in 1s") })
        #expect(h.machine.slots[0].consecutiveFailures == 1)
        #expect(h.machine.slots[0].failedReason == nil)
    }

    @Test func scaleUpSpawnsNewSlots() {
        var h = Harness()
        h.send(.start(workers: 1))
        let out = h.send(.scale(workers: 3))
        #expect(Harness.spawns(out) == [1, 2])
        #expect(h.machine.target == 3)
    }

    @Test func scaleDownDrainsHighestSlots() {
        var h = Harness()
        h.send(.start(workers: 4))
        h.readyAll()
        let pids = (0..<4).map { h.pid($0)! }
        let out = h.send(.scale(workers: 2))
        // Removed slots leave the group, so their partitions move at once.
        #expect(out.contains(.send(pid: pids[3], .leave)))
        #expect(out.contains(.send(pid: pids[2], .leave)))
        #expect(out.contains(.kill(pid: pids[3], .terminate)))
        #expect(!out.contains(.send(pid: pids[0], .drain)) && !out.contains(.send(pid: pids[0], .leave)))
        #expect(!out.contains(.send(pid: pids[1], .drain)) && !out.contains(.send(pid: pids[1], .leave)))
        // They exit: not respawned, slots forgotten.
        h.send(.exited(pid: pids[3], status: .exited(0)))
        h.send(.exited(pid: pids[2], status: .exited(0)))
        h.advance(.seconds(60))
        #expect(h.machine.slots.count == 2)
        #expect(Harness.spawns(h.actions).count == 4)
    }

    @Test func scaleDownKillsAWorkerThatDoesNotDrain() {
        var h = Harness()
        h.send(.start(workers: 2))
        let pid = h.pid(1)!
        h.send(.scale(workers: 1))
        h.advance(.seconds(19))
        #expect(!h.actions.contains(.kill(pid: pid, .kill)))
        h.advance(.seconds(1))
        #expect(h.actions.contains(.kill(pid: pid, .kill)))
    }

    @Test func scaleUpAgainWhileDrainingWaitsForTheOldProcess() {
        var h = Harness()
        h.send(.start(workers: 2))
        let old = h.pid(1)!
        h.send(.scale(workers: 1))
        let up = h.send(.scale(workers: 2))
        #expect(Harness.spawns(up).isEmpty, "slot 1 still has its draining process")
        let exit = h.send(.exited(pid: old, status: .exited(0)))
        #expect(Harness.spawns(exit) == [1])
    }

    @Test func sigtermDrainsAllThenExitsZero() {
        var h = Harness()
        h.send(.start(workers: 2))
        h.readyAll()
        let pids = [h.pid(0)!, h.pid(1)!]
        let out = h.send(.signal(.terminate))
        #expect(Harness.notifications(out) == [.stopping])
        for pid in pids {
            #expect(out.contains(.send(pid: pid, .drain)))
            #expect(out.contains(.kill(pid: pid, .terminate)))
        }
        #expect(!h.send(.exited(pid: pids[0], status: .exited(0))).contains(.exit(code: 0)))
        let last = h.send(.exited(pid: pids[1], status: .exited(0)))
        #expect(last.contains(.exit(code: 0)))
        #expect(Harness.spawns(last).isEmpty)
    }

    @Test func stopEscalatesToSigkillAfterDeadline() {
        var h = Harness()
        h.send(.start(workers: 1))
        let pid = h.pid(0)!
        let out = h.send(.signal(.terminate))
        #expect(out.contains(.armTimer(at: h.clock + .seconds(20))))
        h.advance(.seconds(20))
        #expect(h.actions.contains(.kill(pid: pid, .kill)))
        #expect(h.send(.exited(pid: pid, status: .signaled(9))).contains(.exit(code: 0)))
    }

    @Test func secondInterruptKillsAtOnce() {
        var h = Harness()
        h.send(.start(workers: 1))
        let pid = h.pid(0)!
        h.send(.signal(.interrupt))
        let out = h.send(.signal(.interrupt))
        #expect(out.contains(.kill(pid: pid, .kill)))
    }

    @Test func noRespawnWhileStopping() {
        var h = Harness()
        h.send(.start(workers: 1))
        let pid = h.pid(0)!
        h.send(.exited(pid: pid, status: .exited(1)))
        let out = h.send(.signal(.terminate))
        #expect(out.contains(.exit(code: 0)), "nothing running: exit at once")
        h.advance(.seconds(10))
        #expect(Harness.spawns(h.actions).count == 1)
    }

    @Test func rollingReload() {
        var h = Harness()
        h.send(.start(workers: 3))
        h.readyAll()
        let old = (0..<3).map { h.pid($0)! }
        var out = h.send(.reload(workers: 3))
        // Only slot 0 drains first.
        #expect(out.contains(.send(pid: old[0], .drain)))
        #expect(!out.contains(.send(pid: old[1], .drain)))
        #expect(!out.contains(.send(pid: old[2], .drain)))
        out = h.send(.exited(pid: old[0], status: .exited(0)))
        #expect(Harness.spawns(out) == [0], "respawned at once, no backoff")
        #expect(!out.contains(.send(pid: old[1], .drain)), "waits for slot 0 to be ready")
        out = h.send(.ready(pid: h.pid(0)!, assigned: []))
        #expect(out.contains(.send(pid: old[1], .drain)))
        h.send(.exited(pid: old[1], status: .exited(0)))
        out = h.send(.ready(pid: h.pid(1)!, assigned: []))
        #expect(out.contains(.send(pid: old[2], .drain)))
        #expect(Harness.notifications(out).isEmpty)
        h.send(.exited(pid: old[2], status: .exited(0)))
        out = h.send(.ready(pid: h.pid(2)!, assigned: []))
        #expect(Harness.notifications(out) == [.ready])
        #expect(Harness.logs(out).contains("reload complete"))
        #expect(h.machine.slots.allSatisfy { $0.restarts == 0 }, "planned restarts are not crashes")
        #expect(!h.machine.reloading)
    }

    @Test func rollingReloadStopsWhenTheFirstRolledWorkerFailsForGood() {
        var h = Harness()
        h.send(.start(workers: 3))
        h.readyAll()
        let old = (0..<3).map { h.pid($0)! }
        h.send(.reload(workers: 3))
        h.send(.exited(pid: old[0], status: .exited(0)))
        // The new worker of slot 0 cannot start with the new configuration.
        let out = h.send(.exited(pid: h.pid(0)!, status: .exited(78)))
        #expect(h.machine.slots[0].failedReason != nil)
        #expect(!out.contains(.send(pid: old[1], .drain)), "slot 1 keeps the previous configuration")
        #expect(!out.contains(.send(pid: old[2], .drain)), "slot 2 keeps the previous configuration")
        #expect(Harness.notifications(out) == [.ready])
        #expect(Harness.logs(out).contains { $0.contains("reload stopped") })
        #expect(h.pid(1) == old[1] && h.pid(2) == old[2])
    }

    @Test func reloadGivesFailedSlotsAnotherChance() {
        var h = Harness()
        h.send(.start(workers: 2))
        h.readyAll()
        let healthy = h.pid(0)!
        h.send(.exited(pid: h.pid(1)!, status: .exited(78)))
        #expect(h.machine.slots[1].failedReason != nil)
        let out = h.send(.reload(workers: 2))
        #expect(Harness.spawns(out) == [1], "the failed slot comes back at once")
        #expect(out.contains(.send(pid: healthy, .drain)), "and the running one is rolled")
        h.send(.ready(pid: h.pid(1)!, assigned: []))
        h.send(.exited(pid: healthy, status: .exited(0)))
        let ready = h.send(.ready(pid: h.pid(0)!, assigned: []))
        #expect(Harness.notifications(ready) == [.ready])
    }

    @Test func pausedWorkersAndNewOnesGetPause() {
        var h = Harness()
        h.send(.start(workers: 1))
        let out = h.send(.pause)
        #expect(out.contains(.send(pid: h.pid(0)!, .pause)))
        let up = h.send(.scale(workers: 2))
        #expect(up.contains(.send(pid: h.pid(1)!, .pause)))
        let resume = h.send(.resume)
        #expect(resume.contains(.send(pid: h.pid(0)!, .resume)))
        #expect(resume.contains(.send(pid: h.pid(1)!, .resume)))
    }

    @Test func spawnFailureBacksOff() {
        var h = Harness()
        let out = h.machine.handle(.start(workers: 1))
        #expect(out.contains(.spawn(slot: 0)))
        let failed = h.machine.handle(.spawnFailed(slot: 0, reason: "No such file or directory"))
        #expect(Harness.spawns(failed).isEmpty)
        #expect(h.machine.slots[0].respawnAt == h.clock + .seconds(1))
    }

    @Test func totalsKeepCountersOfExitedWorkers() {
        var h = Harness()
        h.send(.start(workers: 1))
        let pid = h.pid(0)!
        h.send(.snapshot(pid: pid, WorkerSnapshot(state: .running, counters: WorkerCounters(consumed: 10, produced: ["o": 9]))))
        h.send(.exited(pid: pid, status: .signaled(9)))
        h.advance(.seconds(1))
        h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .running, counters: WorkerCounters(consumed: 5, produced: ["o": 5]))))
        #expect(h.machine.totalCounters.consumed == 15)
        #expect(h.machine.totalCounters.producedTotal == 14)
    }

    @Test func statusShowsRestartsPartitionsAndIdleWorkers() {
        var h = Harness()
        h.send(.start(workers: 2))
        let tp = TopicPartition(topic: "orders", partition: 3)
        h.send(.ready(pid: h.pid(0)!, assigned: [tp]))
        h.send(.ready(pid: h.pid(1)!, assigned: []))
        h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .running, counters: WorkerCounters(consumed: 100), assigned: [tp],
                                                         lag: [PartitionLag(topic: "orders", partition: 3, lag: 7)])))
        h.advance(.seconds(2))
        h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .running, counters: WorkerCounters(consumed: 300), assigned: [tp],
                                                         lag: [PartitionLag(topic: "orders", partition: 3, lag: 7)])))
        let report = h.machine.statusReport(pid: 1, version: "1.0", configPath: "/etc/streamforge/config.json", appid: "app")
        #expect(report.state == .running)
        #expect(report.workers[0].state == .running)
        #expect(report.workers[0].partitions == [tp])
        #expect(report.workers[0].recordsPerSecond == 100)
        #expect(report.workers[1].state == .idle)
        #expect(report.totals.lag == 7)
        #expect(report.notes == ["1 worker idle: more workers than partitions"])
        #expect(h.machine.statusLine() == "2/2 workers up, 100 records/s, lag 7")
        let text = report.renderText()
        #expect(text.contains("orders:3"))
        #expect(text.contains("idle"))
    }
}

extension SupervisorMachineTests {
    @Test func readyAssignmentWinsOverAnEarlierSnapshot() {
        var h = Harness()
        h.send(.start(workers: 1))
        let tp = TopicPartition(topic: "orders", partition: 1)
        // The worker's first snapshot comes before its group join completes.
        h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .starting)))
        h.send(.ready(pid: h.pid(0)!, assigned: [tp]))
        let report = h.machine.statusReport(pid: 1, version: "1.0", configPath: "/c.json", appid: "app")
        #expect(report.workers[0].state == .running)
        #expect(report.workers[0].partitions == [tp])
        #expect(report.notes.isEmpty)
    }
}

@Suite struct StatsLineTests {
    @Test func formatsTheLineOperatorsGrepFor() {
        var stats = StatsLine()
        let first = stats.line(totals: .zero, now: .seconds(0))
        #expect(first == "Stats: processed=0 (0/s), filtered=0 (0/s), transformed=0 (0/s), completed=0 (0/s), errors=0 (0/s)")
        let totals = WorkerCounters(consumed: 1000, produced: ["a": 700, "b": 200], filtered: 100, transformed: 50, errors: 3)
        let line = stats.line(totals: totals, now: .seconds(10))
        #expect(line == "Stats: processed=1000 (100/s), filtered=100 (10/s), transformed=50 (5/s), completed=900 (90/s), errors=3 (0.3/s)")
    }
}

@Suite struct AutoscaleTests {
    let tp = (0..<8).map { TopicPartition(topic: "t", partition: Int32($0)) }

    /// A running group whose workers report `lag` in total (each the same share), all owning partitions.
    func report(_ h: inout Harness, lag: Int64) {
        let live = h.machine.slots.filter { $0.wanted && $0.process != nil }
        for (n, slot) in live.enumerated() {
            let pid = slot.process!.pid
            if !slot.process!.ready { h.send(.ready(pid: pid, assigned: [tp[n]])) }
            h.send(.snapshot(pid: pid, WorkerSnapshot(state: .running, assigned: [tp[n]],
                                                      lag: [PartitionLag(topic: "t", partition: Int32(n), lag: lag / Int64(live.count))])))
        }
    }

    func start(_ config: AutoscaleConfig, workers: Int) -> Harness {
        var h = Harness()
        h.send(.configureAutoscale(config))
        h.send(.start(workers: workers))
        report(&h, lag: 0)
        return h
    }

    /// Advances `seconds` one at a time, the workers reporting `lag` each second.
    func hold(_ h: inout Harness, lag: Int64, seconds: Int) {
        for _ in 0..<seconds {
            h.advance(.seconds(1))
            report(&h, lag: lag)
        }
    }

    @Test func addsAWorkerWhenTheLagStaysHighAndRemovesOneWhenItStaysLow() {
        var h = start(AutoscaleConfig(min: 1, max: 3, scaleUpLag: 1000, scaleDownLag: 10, forSeconds: 10, cooldownSeconds: 30), workers: 1)
        hold(&h, lag: 5000, seconds: 9)
        #expect(h.machine.target == 1, "not before the lag held for 10 s")
        hold(&h, lag: 5000, seconds: 3)  // the first second still saw the earlier report
        #expect(h.machine.target == 2)
        #expect(Harness.logs(h.actions).contains { $0.hasPrefix("autoscale: lag 5000 above 1000 for 10s: 1 → 2 workers") })
        // Cool-down: no second step within 30 s, however high the lag.
        hold(&h, lag: 9000, seconds: 25)
        #expect(h.machine.target == 2)
        hold(&h, lag: 9000, seconds: 20)
        #expect(h.machine.target == 3)
        // At max: held back, said once.
        hold(&h, lag: 9000, seconds: 60)
        #expect(h.machine.target == 3)
        #expect(Harness.logs(h.actions).filter { $0.contains("not scaling up: at max (3)") }.count == 1)
        // Low lag: one step down at a time, not below min.
        hold(&h, lag: 0, seconds: 40)
        #expect(h.machine.target == 2)
        hold(&h, lag: 0, seconds: 200)
        #expect(h.machine.target == 1)
        let status = h.machine.statusReport(pid: 1, version: "t", configPath: "/c", appid: "a").autoscale
        #expect(status?.enabled == true && status?.lastDecision?.hasSuffix("2 → 1 workers") == true)
    }

    @Test func aLagSpikeShorterThanTheHoldTimeChangesNothing() {
        var h = start(AutoscaleConfig(min: 1, max: 4, scaleUpLag: 1000, scaleDownLag: 10, forSeconds: 10, cooldownSeconds: 0), workers: 2)
        for _ in 0..<5 {
            hold(&h, lag: 5000, seconds: 8)
            hold(&h, lag: 500, seconds: 1)
        }
        #expect(h.machine.target == 2)
    }

    @Test func neverAddsAWorkerThatWouldIdle() {
        var h = start(AutoscaleConfig(min: 1, max: 4, scaleUpLag: 1000, scaleDownLag: 10, forSeconds: 5, cooldownSeconds: 0), workers: 2)
        // Worker 1 owns nothing: the group has no partition for another worker.
        for _ in 0..<20 {
            h.advance(.seconds(1))
            h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .running, assigned: [tp[0]], lag: [PartitionLag(topic: "t", partition: 0, lag: 9000)])))
            h.send(.snapshot(pid: h.pid(1)!, WorkerSnapshot(state: .running, assigned: [], lag: [])))
        }
        #expect(h.machine.target == 2)
        #expect(Harness.logs(h.actions).contains { $0.contains("worker 1 has no partition: another would idle too") })
    }

    @Test func aManualScalePausesItUntilTurnedOnAgain() {
        var h = start(AutoscaleConfig(min: 1, max: 4, scaleUpLag: 1000, scaleDownLag: 10, forSeconds: 5, cooldownSeconds: 0), workers: 1)
        h.send(.scale(workers: 2))
        report(&h, lag: 0)
        hold(&h, lag: 9000, seconds: 30)
        #expect(h.machine.target == 2, "paused")
        #expect(h.machine.autoscaler?.enabled == false)
        h.send(.autoscale(enabled: true))
        hold(&h, lag: 9000, seconds: 6)
        #expect(h.machine.target == 3)
    }

    @Test func noDecisionWhileAWorkerRestarts() {
        var h = start(AutoscaleConfig(min: 1, max: 4, scaleUpLag: 1000, scaleDownLag: 10, forSeconds: 5, cooldownSeconds: 0), workers: 2)
        hold(&h, lag: 9000, seconds: 3)
        h.send(.exited(pid: h.pid(1)!, status: .signaled(9)))
        for _ in 0..<10 {
            h.advance(.seconds(1))
            h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .running, assigned: [tp[0]], lag: [PartitionLag(topic: "t", partition: 0, lag: 9000)])))
        }
        #expect(h.machine.target == 2, "the lag of a group that restarts a worker says nothing about its size")
    }
}

@Suite struct SupervisionEdgeTests {
    @Test func aCrashLoopEndsOnceTheWorkerStaysUpForTheHealthyPeriod() {
        var h = Harness()
        h.send(.start(workers: 1))
        for _ in 0..<4 {
            h.send(.exited(pid: h.pid(0)!, status: .exited(1)))
            h.advance(.seconds(10))
        }
        #expect(h.machine.slots[0].crashLooping)
        h.readyAll()
        h.advance(.seconds(31))
        #expect(!h.machine.slots[0].crashLooping, "without waiting for another exit")
        #expect(h.machine.statusReport(pid: 1, version: "t", configPath: "/c", appid: "a").state == .running)
    }

    @Test func aSupervisorThatWasHeldUpDoesNotKillItsWorkers() {
        var h = Harness()
        h.send(.start(workers: 1))
        h.readyAll()
        let pid = h.pid(0)!
        // The supervisor itself sat still for 8 s (its workers' reports wait unread).
        h.send(.tick(h.clock + .seconds(8)))
        h.clock += .seconds(8)
        #expect(!h.actions.contains(.kill(pid: pid, .kill)))
        h.send(.heard(pid: pid))
        h.advance(.seconds(3))
        #expect(!h.actions.contains(.kill(pid: pid, .kill)))
    }

    @Test func aRollIsNotCountedAsUnhealthy() {
        var h = Harness(policy: SupervisorPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(8), healthyPeriod: .seconds(30),
                                                 crashLoopLimit: 4, exitAfterUnhealthy: .seconds(10)))
        h.send(.start(workers: 1))
        h.readyAll()
        let old = h.pid(0)!
        h.send(.reload(workers: 1))
        h.advance(.seconds(5))
        h.send(.exited(pid: old, status: .exited(0)))
        h.advance(.seconds(15))  // the new worker takes its time to join
        #expect(!h.actions.contains { if case .exit = $0 { return true } else { return false } })
    }

    @Test func heldBackAutoscalingNeverLeavesATimerInThePast() {
        var h = Harness()
        h.send(.configureAutoscale(AutoscaleConfig(min: 1, max: 1, scaleUpLag: 100, scaleDownLag: 10, forSeconds: 2, cooldownSeconds: 1)))
        h.send(.start(workers: 1))
        let tp = TopicPartition(topic: "t", partition: 0)
        h.send(.ready(pid: h.pid(0)!, assigned: [tp]))
        for lag in [0, 0, 0, 0, 500, 500, 500, 500] as [Int64] {
            h.advance(.seconds(1))
            h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .running, assigned: [tp], lag: [PartitionLag(topic: "t", partition: 0, lag: lag)])))
            if let deadline = h.machine.nextDeadline { #expect(deadline > h.clock, "lag \(lag)") }
        }
    }
}
