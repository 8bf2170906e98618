// System tests of the supervisor: `streamforged` with N workers, `streamforgectl` and a real
// datagram socket as NOTIFY_SOCKET, driven as an operator would (signals, kill -9, scale,
// reload, garbage on the control socket), against the devbroker; and one end-to-end mirror on
// Tansu, the independent broker.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import StreamForgeTestSupport
import Synchronization
import Testing

/// One `streamforged` supervisor under test, with its control socket and its NOTIFY_SOCKET.
final class Daemon {
    let child: ChildProcess
    let socketPath: String
    let notify: NotifySocket

    /// - Parameter name: distinguishes the files of several daemons in one directory.
    init(directory: String, config: String, workers: Int, name: String = "daemon", stopTimeout: Int = 15,
         onNotify: (@Sendable (NotifySocket.Datagram) -> Void)? = nil) throws {
        socketPath = directory + "/\(name).sock"
        notify = try NotifySocket(path: directory + "/\(name).notify", observer: onNotify)
        child = try ChildProcess(binaryPath("streamforged"),
                                 ["--config", config, "--workers", "\(workers)", "--control-socket", socketPath,
                                  "--stop-timeout", "\(stopTimeout)"],
                                 environment: ["NOTIFY_SOCKET": notify.path], logPath: directory + "/\(name).log")
    }

    var log: String { child.output }

    /// `streamforgectl --socket <ours> ARGS...`
    func ctl(_ arguments: String...) throws -> Completed {
        try runCommand(binaryPath("streamforgectl"), ["--socket", socketPath] + arguments, timeout: 40)
    }

    /// `streamforgectl status --json`, decoded.
    func status() throws -> StatusReport {
        let run = try ctl("status", "--json")
        guard run.status == 0 else { throw TestFailure("streamforgectl status --json: \(run)") }
        let reply = try JSONDecoder().decode(ControlReply.self, from: Data(run.stdout.utf8))
        guard case .status(let report)? = reply.result else { throw TestFailure("status reply without a report: \(run.stdout)") }
        return report
    }

    /// Polls `status --json` until `condition` holds; throws with the last report and the log tail.
    @discardableResult
    func waitForStatus(_ what: String, timeout: TimeInterval, every: TimeInterval = 0.2,
                       _ condition: (StatusReport) -> Bool) throws -> StatusReport {
        let deadline = Date().addingTimeInterval(timeout)
        var last: StatusReport?
        while Date() < deadline {
            if let report = try? status() {
                last = report
                if condition(report) { return report }
            }
            usleep(UInt32(every * 1_000_000))
        }
        throw TestFailure("timed out after \(timeout)s waiting for \(what); last status: "
                          + "\(last?.renderText() ?? "none")\nlog: \(log.suffix(3000))")
    }

    /// Waits for READY=1 (from datagram `from` on); throws with the log tail.
    @discardableResult
    func waitForReady(from: Int = 0, timeout: TimeInterval = 30) throws -> (index: Int, datagram: NotifySocket.Datagram) {
        guard let ready = notify.waitFor("READY=1", from: from, timeout: timeout) else {
            throw TestFailure("no READY=1 within \(timeout)s; datagrams: \(notify.datagrams.map(\.text))\nlog: \(log.suffix(3000))")
        }
        return ready
    }

    func stop() { child.stop() }
}

/// Every slot up, consuming, and together owning all `partitions` partitions.
func allRunning(_ r: StatusReport, workers: Int, partitions: Int) -> Bool {
    r.workers.count == workers && r.workersUp == workers
        && r.workers.allSatisfy { $0.state == .running && $0.pid != nil && !$0.partitions.isEmpty }
        && r.totals.assignedPartitions == partitions
}

/// A supervisor config on the devbroker: short sessions so that joins and evictions are quick.
func supervisorConfig(_ dir: String, appid: String, bootstrap: String, commitIntervalMs: Int = 500,
                      extra: String = "") throws -> String {
    try writeConfig(dir, """
        {
          "appid": "\(appid)",
          "bootstrap": "\(bootstrap)",
          "input": "src",
          "output": "dst",
          "offset": "earliest",
          "commit_strategy": {"commit_interval_ms": \(commitIntervalMs)},
          "consumer_properties": {"session.timeout.ms": "6000", "heartbeat.interval.ms": "500"}\(extra)
        }
        """)
}

extension Corpus {
    /// Produces records `range` (sequence numbers) of the corpus.
    func produce(bootstrap: String, _ range: Range<Int>) throws {
        try KafkaTestClient.produce(bootstrap: bootstrap, topic: topic, count: range.count) { outgoing(range.lowerBound + $0) }
    }

    func outgoing(_ i: Int) -> Outgoing {
        Outgoing(key: key(i), value: value(i), headers: headers(i), timestamp: timestamp(i), partition: sourcePartition(i))
    }
}

/// Reads `topic` until every record of `corpus` arrived (or `timeout`), then checks the copy.
func readCopy(_ bootstrap: String, topic: String, corpus: Corpus, targetPartitions: Int32,
              timeout: TimeInterval = 60) throws -> CopyCheck {
    let got = try KafkaTestClient.consume(bootstrap: bootstrap, topics: [topic], timeout: timeout) { records in
        Set(records.compactMap(Corpus.sequence)).count >= corpus.count
    }
    return CopyCheck(got, corpus: corpus, targetPartitions: targetPartitions)
}

/// Reads the copy of `corpus` in `topic`, prints what arrived under `label`, and expects every
/// record there, unchanged and in order (duplicates allowed: at-least-once).
@discardableResult
func expectEveryRecordArrived(_ label: String, bootstrap: String, topic: String = "dst", corpus: Corpus,
                              targetPartitions: Int32) throws -> CopyCheck {
    let check = try readCopy(bootstrap, topic: topic, corpus: corpus, targetPartitions: targetPartitions)
    print("\(label): \(corpus.count) produced, \(check.unique) arrived, \(check.duplicates) duplicates")
    #expect(check.unique == corpus.count, "\(label): lost \(corpus.count - check.unique) records")
    #expect(check.problems.isEmpty, "\(label): \(check.problems.prefix(5))")
    return check
}

final class Capture: Sendable {
    let value = Mutex<String?>(nil)
}

func seconds(since start: Date) -> String { String(format: "%.1fs", Date().timeIntervalSince(start)) }

@Suite(.serialized) struct SupervisorSystemTests {
    // MARK: readiness

    @Test func readyArrivesOnlyAfterEveryWorkerJoinedAndGotItsAssignment() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 4, directory: dir)
        defer { broker.child.stop() }
        let config = try supervisorConfig(dir, appid: "ready-test", bootstrap: broker.bootstrap)
        // What the daemon had logged at the instant READY=1 arrived.
        let logAtReady = Capture()
        let logPath = dir + "/daemon.log"
        let started = Date()
        let daemon = try Daemon(directory: dir, config: config, workers: 2) { datagram in
            if datagram.contains("READY=1") {
                let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                logAtReady.value.withLock { if $0 == nil { $0 = text } }
            }
        }
        defer { daemon.stop() }

        let (readyIndex, ready) = try daemon.waitForReady(timeout: 30)
        let report = try daemon.status()
        print("READY=1 after \(String(format: "%.1f", ready.received.timeIntervalSince(started)))s; datagrams: "
              + "\(daemon.notify.datagrams.map { $0.text.replacingOccurrences(of: "\n", with: " | ") })")

        // Both workers had joined and logged their assignment before READY=1 was sent.
        let atReady = try #require(logAtReady.value.withLock { $0 })
        let assignedLines = atReady.split(separator: "\n").filter { $0.contains("partitions assigned") }
        // (More than two when the broker needed a second cooperative round for the later joiner.)
        #expect(assignedLines.count >= 2, "at READY=1 the log had \(assignedLines.count) assignments:\n\(atReady)")
        for slot in 0..<2 {
            #expect(assignedLines.contains { $0.contains("sf.worker.slot=\(slot)") }, "slot \(slot) not assigned at READY=1:\n\(atReady)")
        }
        for pid in report.workers.compactMap(\.pid) {
            #expect(atReady.contains("worker ready partitions=2 sf.worker.pid=\(pid)"), "supervisor saw worker \(pid) ready:\n\(atReady)")
        }
        // Nothing said READY before, and the state was reported along the way.
        let datagrams = daemon.notify.datagrams
        #expect(datagrams[..<readyIndex].allSatisfy { !$0.contains("READY=1") })
        #expect(ready.value("STATUS")?.contains("2/2 workers up") == true, "READY carries a STATUS: \(ready.text)")
        #expect(datagrams.contains { $0.value("STATUS") != nil })
        // Right after READY=1, status agrees: both running, all four partitions owned.
        #expect(allRunning(report, workers: 2, partitions: 4), "\(report.renderText())")
        #expect(report.state == .running)
    }

    @Test func readyCountsSurplusWorkersAsIdle() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 2, directory: dir)
        defer { broker.child.stop() }
        let config = try supervisorConfig(dir, appid: "idle-test", bootstrap: broker.bootstrap)
        let daemon = try Daemon(directory: dir, config: config, workers: 3)
        defer { daemon.stop() }

        try daemon.waitForReady(timeout: 30)
        let report = try daemon.waitForStatus("every worker ready", timeout: 10) { r in
            r.workers.count == 3 && r.workers.allSatisfy { $0.state == .running || $0.state == .idle }
        }
        #expect(report.workers.filter { $0.state == .idle }.count == 1, "\(report.renderText())")
        #expect(report.totals.assignedPartitions == 2)
        #expect(report.notes.contains { $0.contains("idle") }, "\(report.notes)")
    }

    // MARK: crashes

    @Test func killDashNineOfAWorkerRespawnsItAndRecordsKeepFlowing() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 4, directory: dir)
        defer { broker.child.stop() }
        let config = try supervisorConfig(dir, appid: "respawn-test", bootstrap: broker.bootstrap)
        let daemon = try Daemon(directory: dir, config: config, workers: 2)
        defer { daemon.stop() }
        try daemon.waitForReady(timeout: 30)
        let before = try daemon.waitForStatus("both workers running", timeout: 10) { allRunning($0, workers: 2, partitions: 4) }

        let corpus = Corpus(topic: "src", count: 0, partitions: 4)
        let producer = BackgroundProducer(bootstrap: broker.bootstrap, topic: "src", batch: 50, interval: 0.1) { corpus.outgoing($0) }
        #expect(producer.waitFor(500, timeout: 30))
        try daemon.waitForStatus("records flowing", timeout: 20) { $0.totals.counters.consumed > 0 }

        let victim = try #require(before.workers[1].pid)
        let killedAt = Date()
        kill(victim, SIGKILL)

        var respawned: TimeInterval?
        var assigned: TimeInterval?
        let after = try daemon.waitForStatus("the respawned worker consuming", timeout: 60, every: 0.1) { r in
            guard r.workers.count == 2, let pid = r.workers[1].pid, pid != victim else { return false }
            if respawned == nil { respawned = Date().timeIntervalSince(killedAt) }
            if !r.workers[1].partitions.isEmpty, assigned == nil { assigned = Date().timeIntervalSince(killedAt) }
            return r.workers[1].recordsPerSecond > 0
        }
        let consuming = Date().timeIntervalSince(killedAt)
        print(String(format: "kill -9 of worker 1: respawned after %.1fs, partitions after %.1fs, consuming again after %.1fs",
                     respawned ?? -1, assigned ?? -1, consuming))
        #expect(after.workers[1].restarts >= 1, "\(after.renderText())")
        #expect(after.workers[1].lastExit == "signal 9")
        #expect(after.workers[0].pid == before.workers[0].pid, "the other worker is untouched")
        #expect(after.workers[0].restarts == 0)
        #expect(!processIsAlive(victim))
        #expect(daemon.log.contains("worker 1 (pid \(victim)) exited on signal 9 (SIGKILL: sent from outside the supervisor, by an operator or the kernel's OOM killer), respawning in 1s"),
                "\(daemon.log.suffix(2000))")

        // Records produced before, during and after the crash all arrive.
        #expect(producer.waitFor(producer.acknowledged + 500, timeout: 30))
        let produced = try producer.stop()
        try expectEveryRecordArrived("kill -9 of a worker", bootstrap: broker.bootstrap,
                                     corpus: Corpus(topic: "src", count: produced, partitions: 4), targetPartitions: 4)
    }

    @Test func killDashNineOfTheSupervisorLeavesNoWorkerBehind() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 4, directory: dir)
        defer { broker.child.stop() }
        let config = try supervisorConfig(dir, appid: "orphan-test", bootstrap: broker.bootstrap)
        let daemon = try Daemon(directory: dir, config: config, workers: 3)
        defer { daemon.stop() }
        try daemon.waitForReady(timeout: 30)
        let report = try daemon.status()
        let pids = report.workers.compactMap(\.pid)
        #expect(pids.count == 3)
        #expect(pids.allSatisfy(processIsAlive))
        // Keep the workers busy while their supervisor dies.
        try Corpus(topic: "src", count: 2000, partitions: 4).produce(bootstrap: broker.bootstrap)

        let killedAt = Date()
        daemon.child.signal(SIGKILL)
        #expect(daemon.child.wait(timeout: 5) != nil)
        var gone: TimeInterval?
        while Date().timeIntervalSince(killedAt) < 2 {
            if !pids.contains(where: processIsAlive) {
                gone = Date().timeIntervalSince(killedAt)
                break
            }
            usleep(10_000)
        }
        let survivors = pids.filter(processIsAlive)
        print("kill -9 of the supervisor: workers gone after \(gone.map { String(format: "%.2fs", $0) } ?? "more than 2s")")
        #expect(survivors.isEmpty, "workers still running 2 s after the supervisor died: \(survivors)")
        for pid in survivors { kill(pid, SIGKILL) }

        // systemd restarts the unit: a new supervisor starts over the stale control socket.
        let again = try Daemon(directory: dir, config: config, workers: 1, name: "daemon-2")
        defer { again.stop() }
        try again.waitForReady(timeout: 30)
        #expect(try again.ctl("status").status == 0)
    }

    // MARK: scale

    @Test func scaleOneToThreeToOneWhileRecordsFlowLosesNothing() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 8, directory: dir)
        defer { broker.child.stop() }
        let config = try supervisorConfig(dir, appid: "scale-test", bootstrap: broker.bootstrap)
        let daemon = try Daemon(directory: dir, config: config, workers: 1)
        defer { daemon.stop() }
        try daemon.waitForReady(timeout: 30)
        try daemon.waitForStatus("one worker with every partition", timeout: 10) { allRunning($0, workers: 1, partitions: 8) }

        let corpus = Corpus(topic: "src", count: 0, partitions: 8)
        let producer = BackgroundProducer(bootstrap: broker.bootstrap, topic: "src", batch: 50, interval: 0.1) { corpus.outgoing($0) }
        #expect(producer.waitFor(500, timeout: 30))

        var start = Date()
        let up = try daemon.ctl("scale", "3")
        #expect(up.status == 0, "\(up)")
        #expect(up.stdout.contains("scaling from 1 to 3 workers"), "\(up.stdout)")
        let three = try daemon.waitForStatus("three workers sharing 8 partitions", timeout: 90) { allRunning($0, workers: 3, partitions: 8) }
        print("scale 1→3: \(seconds(since: start)) until 3 workers own partitions "
              + "(\(three.workers.map { $0.partitions.count }))")
        let atThree = producer.acknowledged
        #expect(producer.waitFor(atThree + 300, timeout: 30))

        start = Date()
        let down = try daemon.ctl("scale", "1")
        #expect(down.status == 0, "\(down)")
        let one = try daemon.waitForStatus("one worker owning all 8 partitions", timeout: 90) { allRunning($0, workers: 1, partitions: 8) }
        print("scale 3→1: \(seconds(since: start)) until worker 0 owns all partitions again")
        #expect(one.workers[0].pid == three.workers[0].pid, "slot 0 keeps running across the scale")
        #expect(one.workers[0].restarts == 0)
        for slot in 1...2 {
            #expect(!processIsAlive(three.workers[slot].pid!), "slot \(slot) process gone")
            #expect(daemon.log.contains("worker \(slot) (pid \(three.workers[slot].pid!)) exited with status 0, stopped"),
                    "slot \(slot) drained cleanly: \(daemon.log.suffix(3000))")
        }

        #expect(producer.waitFor(producer.acknowledged + 300, timeout: 30))
        let produced = try producer.stop()
        try expectEveryRecordArrived("scale 1→3→1", bootstrap: broker.bootstrap,
                                     corpus: Corpus(topic: "src", count: produced, partitions: 8), targetPartitions: 8)
    }

    // MARK: reload

    @Test func reloadWithABrokenConfigKeepsRunningAndAFixedOneRollsTheWorkers() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 4, directory: dir)
        defer { broker.child.stop() }
        let config = try supervisorConfig(dir, appid: "reload-test", bootstrap: broker.bootstrap)
        let daemon = try Daemon(directory: dir, config: config, workers: 2)
        defer { daemon.stop() }
        try daemon.waitForReady(timeout: 30)
        let before = try daemon.waitForStatus("both workers running", timeout: 10) { allRunning($0, workers: 2, partitions: 4) }
        let corpus = Corpus(topic: "src", count: 1500, partitions: 4)
        try corpus.produce(bootstrap: broker.bootstrap, 0..<500)

        // A typo on line 5, column 3 (and, as a consequence, no output at all).
        try """
            {
              "appid": "reload-test",
              "bootstrap": "\(broker.bootstrap)",
              "input": "src",
              "outptu": "dst",
              "offset": "earliest"
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let datagramsBefore = daemon.notify.datagrams.count
        let broken = try daemon.ctl("reload")
        #expect(broken.status == 1, "\(broken)")
        #expect(broken.stderr.contains("\(config):5:3: error: unknown key 'outptu'"), "\(broken.stderr)")
        #expect(broken.stderr.contains("did you mean 'output'?"), "\(broken.stderr)")
        #expect(broken.stderr.contains("missing required key 'output'"), "\(broken.stderr)")
        // systemd hears RELOADING=1 and then READY=1 again: the reload finished (by refusing).
        let reloading = try #require(daemon.notify.waitFor("RELOADING=1", from: datagramsBefore, timeout: 5))
        #expect(reloading.datagram.value("MONOTONIC_USEC") != nil)
        #expect(daemon.notify.waitFor("READY=1", from: reloading.index, timeout: 5) != nil)
        #expect(daemon.log.contains("unable to reload the configuration, keeping the running one"))
        // `systemctl reload` (SIGHUP) takes the same path: refused, diagnostics in the log.
        let beforeHup = daemon.notify.datagrams.count
        daemon.child.signal(SIGHUP)
        let hup = try #require(daemon.notify.waitFor("RELOADING=1", from: beforeHup, timeout: 5))
        #expect(daemon.notify.waitFor("READY=1", from: hup.index, timeout: 5) != nil)
        #expect(daemon.child.waitForOutput("reloading on SIGHUP", timeout: 5))
        #expect(daemon.log.contains("\(config):5:3: error: unknown key 'outptu'"), "\(daemon.log.suffix(2000))")

        // Nothing restarted, and it keeps mirroring.
        let kept = try daemon.status()
        #expect(kept.workers.map(\.pid) == before.workers.map(\.pid), "\(kept.renderText())")
        #expect(kept.state == .running)
        try corpus.produce(bootstrap: broker.bootstrap, 500..<1000)
        let middle = try readCopy(broker.bootstrap, topic: "dst", corpus: Corpus(topic: "src", count: 1000, partitions: 4),
                                  targetPartitions: 4)
        #expect(middle.unique == 1000, "mirroring continues after a refused reload: \(middle.unique) of 1000")

        // The fixed file (a different commit interval) is accepted; workers roll one at a time.
        _ = try supervisorConfig(dir, appid: "reload-test", bootstrap: broker.bootstrap, commitIntervalMs: 300)
        let fromDatagram = daemon.notify.datagrams.count
        let start = Date()
        let fixed = try daemon.ctl("reload")
        #expect(fixed.status == 0, "\(fixed)")
        #expect(fixed.stdout.contains("configuration valid; rolling 2 workers one at a time"), "\(fixed.stdout)")
        let old = Set(before.workers.compactMap(\.pid))
        let rolled = try daemon.waitForStatus("both workers replaced", timeout: 90) { r in
            allRunning(r, workers: 2, partitions: 4) && r.state == .running
                && r.workers.allSatisfy { !old.contains($0.pid!) }
        }
        let reloaded = daemon.notify.waitFor("RELOADING=1", from: fromDatagram, timeout: 1)
        #expect(reloaded != nil)
        #expect(daemon.notify.waitFor("READY=1", from: (reloaded?.index ?? 0) + 1, timeout: 10) != nil,
                "READY=1 after the roll: \(daemon.notify.datagrams.map(\.text))")
        print("reload: both workers rolled in \(seconds(since: start))")
        #expect(rolled.workers.allSatisfy { $0.restarts == 0 }, "a planned roll is not a crash: \(rolled.renderText())")
        // One at a time: the first drained worker was back before the second was drained.
        let log = daemon.log
        if let firstBack = log.range(of: "restarting with the new configuration"),
           let secondDrain = log.range(of: "draining worker", range: firstBack.upperBound..<log.endIndex) {
            #expect(log[firstBack.upperBound..<secondDrain.lowerBound].contains("worker ready"), "rolled one at a time:\n\(log.suffix(4000))")
        } else {
            Issue.record("the log does not show a roll: \(log.suffix(4000))")
        }

        try corpus.produce(bootstrap: broker.bootstrap, 1000..<1500)
        try expectEveryRecordArrived("reload", bootstrap: broker.bootstrap, corpus: corpus, targetPartitions: 4)
    }

    // MARK: stop

    @Test func sigtermDrainsEveryWorkerAndARestartReReadsNothing() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 4, directory: dir)
        defer { broker.child.stop() }
        // Commits are due only every minute: what is committed at the end, the drain committed.
        let config = try supervisorConfig(dir, appid: "stop-test", bootstrap: broker.bootstrap, commitIntervalMs: 60_000)
        let daemon = try Daemon(directory: dir, config: config, workers: 2)
        defer { daemon.stop() }
        try daemon.waitForReady(timeout: 30)
        let report = try daemon.waitForStatus("both workers running", timeout: 10) { allRunning($0, workers: 2, partitions: 4) }
        let pids = report.workers.compactMap(\.pid)

        let n = 3000
        let corpus = Corpus(topic: "src", count: n, partitions: 4)
        try corpus.produce(bootstrap: broker.bootstrap)
        try daemon.waitForStatus("every record consumed", timeout: 60) { $0.totals.counters.consumed >= UInt64(n) }
        #expect(try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "stop-test", topic: "src", partitions: 4) == 0,
                "no periodic commit yet")

        let datagramsBefore = daemon.notify.datagrams.count
        let start = Date()
        daemon.child.signal(SIGTERM)
        #expect(daemon.notify.waitFor("STOPPING=1", from: datagramsBefore, timeout: 5) != nil,
                "STOPPING=1: \(daemon.notify.datagrams.map(\.text))")
        let status = daemon.child.wait(timeout: 30)
        print("SIGTERM: the daemon exited with \(status.map(String.init) ?? "nothing") after \(seconds(since: start))")
        #expect(status == 0, "\(daemon.log.suffix(3000))")
        #expect(pids.allSatisfy { !processIsAlive($0) })
        #expect(daemon.log.contains("all workers stopped"))
        for (slot, pid) in pids.enumerated() {
            #expect(daemon.log.contains("worker \(slot) (pid \(pid)) exited with status 0, stopped"), "\(daemon.log.suffix(3000))")
        }
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath), "the control socket is removed")
        let committed = try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "stop-test", topic: "src", partitions: 4)
        #expect(committed == Int64(n), "the drain committed \(committed) of \(n)")

        // Restart: nothing is read again; new records are.
        let again = try Daemon(directory: dir, config: config, workers: 2, name: "daemon-2")
        defer { again.stop() }
        try again.waitForReady(timeout: 30)
        try corpus.produce(bootstrap: broker.bootstrap, n..<(n + 500))
        let more = Corpus(topic: "src", count: n + 500, partitions: 4)
        let check = try readCopy(broker.bootstrap, topic: "dst", corpus: more, targetPartitions: 4)
        let afterRestart = try again.waitForStatus("the new records consumed", timeout: 30) { $0.totals.counters.consumed >= 500 }
        usleep(1_500_000)  // one more snapshot: anything re-read would show up
        let consumed = try again.status().totals.counters.consumed
        print("restart after SIGTERM: consumed \(consumed) (500 new), \(check.unique) unique in the target, \(check.duplicates) duplicates")
        #expect(consumed == 500, "the restart re-read \(Int(consumed) - 500) records; \(afterRestart.renderText())")
        #expect(check.unique == n + 500)
        #expect(check.duplicates == 0)
        #expect(check.problems.isEmpty, "\(check.problems.prefix(5))")

        let stop = try again.ctl("stop")
        #expect(stop.status == 0, "\(stop)")
        #expect(again.child.wait(timeout: 30) == 0)
    }

    // MARK: control socket

    @Test func garbageOnTheControlSocketGetsAnErrorReplyAndLeavesTheDaemonUnaffected() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 2, directory: dir)
        defer { broker.child.stop() }
        let config = try supervisorConfig(dir, appid: "garbage-test", bootstrap: broker.bootstrap)
        let daemon = try Daemon(directory: dir, config: config, workers: 1)
        defer { daemon.stop() }
        try daemon.waitForReady(timeout: 30)
        let before = try daemon.status()

        var generator = SystemRandomNumberGenerator()
        let random = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }.map { $0 == 0x0A ? 0x20 : $0 }
        let cases: [(String, [UInt8], [String])] = [
            ("random bytes", random + [0x0A], []),
            ("not JSON", Array("hello, daemon\n".utf8), ["malformed request"]),
            ("NUL and invalid UTF-8", [0x00, 0xFF, 0xFE, 0x7B, 0x0A], []),
            ("JSON, not an object", Array("[1,2,3]\n".utf8), []),
            ("no cmd", Array("{}\n".utf8), []),
            ("unknown command", Array("{\"cmd\":\"explode\"}\n".utf8), ["unknown command 'explode'"]),
            ("scale without workers", Array("{\"cmd\":\"scale\"}\n".utf8), ["scale needs \"workers\""]),
            ("scale out of range", Array("{\"cmd\":\"scale\",\"workers\":-1}\n".utf8), []),
            ("empty line", Array("\n".utf8), ["empty request"]),
        ]
        for (name, bytes, expected) in cases {
            let (lines, _) = try unixStreamExchange(path: daemon.socketPath, send: bytes)
            let line = lines.first ?? ""
            let reply = try? JSONDecoder().decode(ControlReply.self, from: Data(line.utf8))
            #expect(reply?.ok == false, "\(name): \(line)")
            #expect(reply?.error?.isEmpty == false, "\(name): \(line)")
            for text in expected { #expect(reply?.error?.contains(text) == true, "\(name): \(line)") }
        }

        // An oversized line: an error reply, then the daemon closes that connection.
        let (big, closed) = try unixStreamExchange(path: daemon.socketPath, send: [UInt8](repeating: 0x61, count: 200_000) + [0x0A])
        #expect(big.first?.contains("request too large") == true, "\(big)")
        #expect(closed)

        // Several requests on one connection, garbage first: one reply each, in order.
        let (pair, _) = try unixStreamExchange(path: daemon.socketPath, send: Array("garbage\n{\"cmd\":\"status\"}\n".utf8), replies: 2)
        #expect(pair.count == 2)
        #expect(pair.first?.contains("\"ok\":false") == true, "\(pair)")
        #expect(pair.last?.contains("\"ok\":true") == true, "\(pair)")

        // Half a request, then hang up; many idle connections at once.
        _ = try unixStreamExchange(path: daemon.socketPath, send: Array("{\"cmd\":\"sta".utf8), replies: 0, timeout: 0.2)
        var idle: [Int32] = []
        for _ in 0..<80 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(daemon.socketPath.utf8) + [0]) }
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            idle.append(fd)
        }
        usleep(200_000)
        for fd in idle { close(fd) }

        // Unaffected: same worker, same daemon, commands work.
        #expect(daemon.child.process.isRunning)
        let status = try daemon.ctl("status")
        #expect(status.status == 0, "\(status)")
        let after = try daemon.status()
        #expect(after.pid == before.pid)
        #expect(after.workers.map(\.pid) == before.workers.map(\.pid))
        #expect(after.workers.allSatisfy { $0.restarts == 0 })
        try Corpus(topic: "src", count: 200, partitions: 2).produce(bootstrap: broker.bootstrap)
        let check = try readCopy(broker.bootstrap, topic: "dst", corpus: Corpus(topic: "src", count: 200, partitions: 2),
                                 targetPartitions: 2, timeout: 30)
        #expect(check.unique == 200)
    }

    @Test func streamforgectlExitCodesTellUnreachableFromUsage() throws {
        let dir = makeTempDirectory()
        let ctl = binaryPath("streamforgectl")

        // 69: nothing at the path; a stale socket nobody listens on; a file that is no socket.
        let missing = try runCommand(ctl, ["--socket", dir + "/missing.sock", "status"])
        #expect(missing.status == 69, "\(missing)")
        #expect(missing.stderr.contains("unable to connect to streamforged at \(dir)/missing.sock"), "\(missing.stderr)")
        let stale = dir + "/stale.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(stale.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(fd)
        #expect(bound == 0)
        #expect(try runCommand(ctl, ["--socket", stale, "reload"]).status == 69)
        _ = FileManager.default.createFile(atPath: dir + "/plain", contents: Data("x".utf8))
        #expect(try runCommand(ctl, ["--socket", dir + "/plain", "status"]).status == 69)
        let fromEnvironment = try runCommand(ctl, ["status"], environment: ["STREAMFORGE_CONTROL_SOCKET": dir + "/missing.sock"])
        #expect(fromEnvironment.status == 69)
        #expect(fromEnvironment.stderr.contains(dir + "/missing.sock"), "STREAMFORGE_CONTROL_SOCKET is used: \(fromEnvironment.stderr)")

        // 64: usage errors, before any connection is tried.
        for arguments in [["scale"], ["scale", "three"], ["scale", "-1"], ["scale", "100000"], ["explode"],
                          ["status", "--bogus"], ["--timeout", "0", "status"], ["status", "extra"]] {
            let run = try runCommand(ctl, ["--socket", dir + "/missing.sock"] + arguments)
            #expect(run.status == 64, "streamforgectl \(arguments.joined(separator: " ")): \(run)")
            #expect(!run.stderr.isEmpty)
        }
    }

    // MARK: Tansu

    @Test func tansuMirrorsRecordsByteForByte() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let script = root + "/scripts/tansu.sh"
        let tansu = try runCommand(script, ["bin"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let libdir = try runCommand(script, ["libdir"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(FileManager.default.isExecutableFile(atPath: tansu) && FileManager.default.fileExists(atPath: libdir + "/librdkafka.so.1"),
                     "Tansu is not installed in \(root)/.tansu: run `make deps` (or scripts/tansu.sh install)")
        let kcat = "/usr/bin/kcat"
        try #require(FileManager.default.isExecutableFile(atPath: kcat), "kcat is missing: run `make deps` (Debian package kafkacat)")
        let clientEnvironment = ["LD_LIBRARY_PATH": libdir]

        let dir = makeTempDirectory()
        let port = try freeTCPPort()
        let started = try runCommand(script, ["start", "\(port)", dir + "/tansu.log"], timeout: 30)
        let tansuPid = try #require(Int32(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "tansu.sh start: \(started)")
        defer { _ = try? runCommand(script, ["stop", "\(tansuPid)"]) }
        let broker = "127.0.0.1:\(port)"
        for topic in ["src", "dst"] {
            let created = try runCommand(tansu, ["topic", "create", topic, "--partitions", "4", "--broker", "tcp://\(broker)"])
            #expect(created.status == 0, "create \(topic): \(created)")
        }

        // Keyed records in three runs with different header sets (repeated names, none, one).
        let n = 3000
        func line(_ i: Int) -> String { "key-\(i)|{\"i\":\(i),\"pad\":\"\(String(repeating: "z", count: i % 50))\"}" }
        let headerSets: [[String]] = [["-H", "a=1", "-H", "a=2", "-H", "b="], [], ["-H", "trace=\u{00e9}t\u{00e9}"]]
        for (part, headers) in headerSets.enumerated() {
            let range = (part * n / 3)..<((part + 1) * n / 3)
            let input = range.map(line).joined(separator: "\n") + "\n"
            let produced = try runCommand(kcat, ["-P", "-b", broker, "-t", "src", "-K|", "-X", "linger.ms=5"] + headers,
                                          environment: clientEnvironment, stdin: Data(input.utf8), timeout: 60)
            #expect(produced.status == 0, "kcat -P: \(produced)")
        }

        let config = try writeConfig(dir, """
            {"appid": "tansu-mirror", "bootstrap": "\(broker)", "input": "src", "output": "dst", "offset": "earliest",
             "commit_strategy": {"commit_interval_ms": 500},
             "consumer_properties": {"session.timeout.ms": "6000"}}
            """)
        let start = Date()
        let mirror = try ChildProcess(binaryPath("streamforged"), ["run", "--config", config, "--exit-after-records", "\(n)"],
                                      environment: clientEnvironment, logPath: dir + "/streamforged.log")
        let status = mirror.wait(timeout: 120)
        if status == nil { mirror.stop() }
        print("Tansu: streamforged mirrored \(n) records in \(seconds(since: start)) (exit \(status.map(String.init) ?? "none"))")
        #expect(status == 0, "streamforged run on Tansu: \(mirror.output.suffix(3000))")

        struct Row {
            var partition: Int32
            var offset: Int64
            var key: String
            var value: String
            var headers: String
            var timestamp: Int64
        }
        func read(_ topic: String) throws -> [Row] {
            let run = try runCommand(kcat, ["-C", "-b", broker, "-t", topic, "-o", "beginning", "-e", "-q",
                                            "-f", "%p|%o|%k|%s|%h|%T\\n"], environment: clientEnvironment, timeout: 60)
            guard run.status == 0 else { throw TestFailure("kcat -C \(topic): \(run)") }
            return run.stdout.split(separator: "\n").compactMap { text in
                let f = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                guard f.count == 6, let p = Int32(f[0]), let o = Int64(f[1]), let t = Int64(f[5]) else { return nil }
                return Row(partition: p, offset: o, key: f[2], value: f[3], headers: f[4], timestamp: t)
            }
        }
        let source = try read("src")
        let target = try read("dst")
        #expect(source.count == n, "source has \(source.count) of \(n) records")

        let byKey = Dictionary(source.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        var duplicates = 0
        var problems: [String] = []
        // Per target partition, the last source offset seen of each source partition.
        var lastOffset: [String: Int64] = [:]
        for row in target.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            guard let original = byKey[row.key] else {
                problems.append("unexpected key \(row.key)")
                continue
            }
            if !seen.insert(row.key).inserted {
                duplicates += 1
                continue
            }
            if row.value != original.value { problems.append("value of \(row.key) differs") }
            if row.headers != original.headers { problems.append("headers of \(row.key): \(row.headers) != \(original.headers)") }
            if row.timestamp != original.timestamp { problems.append("timestamp of \(row.key): \(row.timestamp) != \(original.timestamp)") }
            if row.partition != Murmur2.partition(forKey: Array(row.key.utf8), partitionCount: 4) {
                problems.append("\(row.key) is in partition \(row.partition), not murmur2's")
            }
            let order = "\(row.partition)/\(original.partition)"
            if let last = lastOffset[order], last > original.offset {
                problems.append("\(row.key) (source offset \(original.offset)) after source offset \(last) in \(order)")
            }
            lastOffset[order] = original.offset
        }
        print("Tansu: \(target.count) copies, \(seen.count) unique of \(n), \(duplicates) duplicates")
        #expect(seen.count == n, "lost \(n - seen.count) records")
        #expect(duplicates == 0)
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(source.contains { $0.headers == "a=1,a=2,b=" }, "headers as produced: \(source.first?.headers ?? "")")
    }
}
