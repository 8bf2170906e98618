// /metrics, /healthz and /readyz of a running supervisor, checked against the records on the
// broker and with the reference Prometheus parser; stalled deliveries and lag during a pause.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import StreamForgeTestSupport
import Testing

@Suite(.serialized) struct ObservabilitySystemTests {
    func scrape(_ port: Int) throws -> [String: Double] {
        let (status, body) = try httpGet(port: port, path: "/metrics")
        #expect(status == 200)
        return try parsePrometheus(body)
    }

    func sum(_ samples: [String: Double], _ prefix: String) -> Double {
        samples.filter { $0.key.hasPrefix(prefix + "{") }.values.reduce(0, +)
    }

    @Test func metricsMatchTheRecordsOnTheBrokerAndReadinessFollowsTheWorkers() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 4, directory: dir)
        defer { broker.child.stop() }
        let port = try freeTCPPort()
        let config = try supervisorConfig(dir, appid: "metrics-test", bootstrap: broker.bootstrap,
                                          extra: ",\n\"metrics\": \"127.0.0.1:\(port)\"")
        let daemon = try Daemon(directory: dir, config: config, workers: 2)
        defer { daemon.stop() }
        try daemon.waitForReady(timeout: 30)
        #expect(try httpGet(port: port, path: "/healthz") == (200, "ok\n"))
        #expect(try httpGet(port: port, path: "/readyz").status == 200)
        #expect(daemon.log.contains("metrics=http://127.0.0.1:\(port)/metrics"), "\(daemon.log.suffix(2000))")

        // ps and pgrep tell the processes apart.
        func commandLine(_ pid: Int32) -> String {
            let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            return String(decoding: raw.split(separator: 0).first ?? Data(), as: UTF8.self)
        }
        let running = try daemon.status()
        #expect(commandLine(running.pid) == "streamforged: supervisor [metrics-test]")
        for w in running.workers {
            #expect(commandLine(w.pid!) == "streamforged: worker \(w.slot) [metrics-test]")
        }
        let pgrep = try runCommand("/usr/bin/pgrep", ["-f", "^streamforged: worker [0-9]+ \\[metrics-test\\]"])
        #expect(Set(pgrep.stdout.split(separator: "\n").compactMap { Int32($0) }) == Set(running.workers.compactMap(\.pid)))

        let corpus = Corpus(topic: "src", count: 2000, partitions: 4)
        try corpus.produce(bootstrap: broker.bootstrap, 0..<2000)
        let copy = try expectEveryRecordArrived("metrics", bootstrap: broker.bootstrap, corpus: corpus, targetPartitions: 4)
        // Snapshots come every second: wait until the counters caught up with the copy.
        var samples: [String: Double] = [:]
        let deadline = Date().addingTimeInterval(20)
        repeat {
            samples = try scrape(port)
            if samples["streamforge_records_produced_total{destination=\"dst\"}"] ?? 0 >= 2000,
               sum(samples, "kafka_consumer_lag") == 0 { break }
            usleep(250_000)
        } while Date() < deadline
        let produced = samples["streamforge_records_produced_total{destination=\"dst\"}"] ?? -1
        let consumed = samples["streamforge_records_consumed_total{}"] ?? -1
        print("metrics: consumed=\(consumed) produced=\(produced), on the broker \(copy.unique + copy.duplicates)")
        #expect(produced >= 2000 && produced == Double(copy.unique + copy.duplicates),
                "every acknowledged record is on the broker and counted once")
        #expect(consumed >= produced)
        #expect(samples["streamforge_workers_up{}"] == 2 && samples["streamforge_workers_ready{}"] == 2)
        #expect(sum(samples, "kafka_consumer_lag") == 0)
        #expect(samples.keys.filter { $0.hasPrefix("kafka_consumer_lag{") }.count == 4, "one line per source partition")
        #expect(sum(samples, "streamforge_committed_offset") == 2000, "committed offsets reach the end of every partition")
        #expect(samples["streamforge_delivery_latency_seconds_count{}"] == produced)
        #expect(samples["streamforge_delivery_latency_seconds_bucket{le=\"+Inf\"}"] == produced)

        // Paused: records wait on the source and the lag says how many.
        #expect(try daemon.ctl("pause").status == 0)
        try daemon.waitForStatus("every worker paused", timeout: 10) { r in r.workers.allSatisfy { $0.state == .paused } }
        try corpus.produce(bootstrap: broker.bootstrap, 2000..<2500)
        var lagWhilePaused = 0.0
        let pausedDeadline = Date().addingTimeInterval(20)
        repeat {
            lagWhilePaused = sum(try scrape(port), "kafka_consumer_lag")
            if lagWhilePaused >= 500 { break }
            usleep(500_000)
        } while Date() < pausedDeadline
        #expect(lagWhilePaused == 500, "lag rises while paused")
        #expect(try daemon.ctl("resume").status == 0)
        var lagAfter = lagWhilePaused
        let resumedDeadline = Date().addingTimeInterval(20)
        repeat {
            lagAfter = sum(try scrape(port), "kafka_consumer_lag")
            if lagAfter == 0 { break }
            usleep(250_000)
        } while Date() < resumedDeadline
        #expect(lagAfter == 0, "and falls after resume")

        // A worker killed: /readyz is 503 with the reason until it is back.
        let status = try daemon.status()
        let victim = try #require(status.workers[0].pid)
        kill(victim, SIGKILL)
        var notReady: (Int, String) = (0, "")
        let readyDeadline = Date().addingTimeInterval(10)
        repeat {
            notReady = try httpGet(port: port, path: "/readyz")
            if notReady.0 == 503 { break }
            usleep(50_000)
        } while Date() < readyDeadline
        #expect(notReady.0 == 503)
        #expect(notReady.1.hasPrefix("not ready: worker 0: "), "\(notReady.1)")
        try daemon.waitForStatus("the worker back", timeout: 60) { r in r.workers.allSatisfy { $0.state == .running || $0.state == .idle } }
        var back = 0
        let backDeadline = Date().addingTimeInterval(20)
        repeat {
            back = try httpGet(port: port, path: "/readyz").status
            if back == 200 { break }
            usleep(100_000)
        } while Date() < backDeadline
        #expect(back == 200)
        let after = try scrape(port)
        #expect(after["streamforge_worker_restarts_total{slot=\"0\"}"] == 1)
        #expect(try httpGet(port: port, path: "/nothing-here").status == 404)

        // top: status redrawn; without a terminal each refresh follows the previous one.
        let top = try daemon.ctl("top", "--iterations", "2", "--interval", "0.5")
        #expect(top.status == 0)
        #expect(top.stdout.components(separatedBy: "streamforgectl top: every 0.5s").count == 3, "\(top.stdout)")
        #expect(top.stdout.components(separatedBy: "IN FLIGHT").count == 3)
    }
}
