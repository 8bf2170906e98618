// Several supervisors with one appid (two "hosts", told apart by host_id) share a group; a topic
// that matches a `^regex` input and appears at run time is picked up without a restart.

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

@Suite(.serialized) struct ManyHostsSystemTests {
    @Test func twoHostsSplitThePartitionsAndTheSurvivorTakesThemAllWithoutLosingARecord() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 8, directory: dir)
        defer { broker.child.stop() }
        func config(_ host: String) throws -> String {
            let sub = dir + "/" + host
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            return try supervisorConfig(sub, appid: "two-hosts", bootstrap: broker.bootstrap,
                                        extra: ",\n\"host_id\": \"\(host)\", \"metrics\": \"off\"")
        }
        let a = try Daemon(directory: dir, config: try config("host-a"), workers: 2, name: "a")
        defer { a.stop() }
        let b = try Daemon(directory: dir, config: try config("host-b"), workers: 2, name: "b")
        defer { b.stop() }
        try a.waitForReady(timeout: 60)
        try b.waitForReady(timeout: 60)

        let corpus = Corpus(topic: "src", count: 0, partitions: 8)
        let producer = BackgroundProducer(bootstrap: broker.bootstrap, topic: "src", batch: 40, interval: 0.1) { corpus.outgoing($0) }
        defer { _ = try? producer.stop() }
        #expect(producer.waitFor(400, timeout: 30))

        // The group spreads the 8 partitions over both hosts, each partition once.
        var split: (Set<StreamForgeIPC.TopicPartition>, Set<StreamForgeIPC.TopicPartition>) = ([], [])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let sa = try? a.status(), let sb = try? b.status() {
                split = (Set(sa.workers.flatMap(\.partitions)), Set(sb.workers.flatMap(\.partitions)))
                if !split.0.isEmpty && !split.1.isEmpty && split.0.isDisjoint(with: split.1) && split.0.union(split.1).count == 8 { break }
            }
            usleep(250_000)
        }
        print("two hosts: a owns \(split.0.count), b owns \(split.1.count) partitions")
        #expect(!split.0.isEmpty && !split.1.isEmpty, "both hosts own partitions")
        #expect(split.0.isDisjoint(with: split.1) && split.0.union(split.1).count == 8)

        // Host b dies with its workers (SIGKILL of the supervisor): a takes every partition
        // once the group notices (session.timeout.ms), and nothing is lost.
        let killedAt = Date()
        b.child.signal(SIGKILL)
        let all = try a.waitForStatus("host a owning all 8 partitions", timeout: 60) { r in
            Set(r.workers.flatMap(\.partitions)).count == 8 && r.workers.allSatisfy { $0.state == .running }
        }
        print(String(format: "host b killed: host a owns all %d partitions after %.1fs", all.totals.assignedPartitions,
                     Date().timeIntervalSince(killedAt)))
        #expect(producer.waitFor(producer.acknowledged + 400, timeout: 30))
        let produced = try producer.stop()
        try expectEveryRecordArrived("two hosts, one killed", bootstrap: broker.bootstrap,
                                     corpus: Corpus(topic: "src", count: produced, partitions: 8), targetPartitions: 8)
    }

    @Test func aTopicThatAppearsAndMatchesTheRegexIsMirroredWithoutARestart() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["orders.us", "dst"], partitions: 2, directory: dir)
        defer { broker.child.stop() }
        let config = try writeConfig(dir, """
            {"appid": "regex-test", "bootstrap": "\(broker.bootstrap)", "input": "^orders\\\\..*", "output": "dst",
             "offset": "earliest", "metrics": "off",
             "consumer_properties": {"session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
                                     "topic.metadata.refresh.interval.ms": "1000"}}
            """)
        let daemon = try Daemon(directory: dir, config: config, workers: 1)
        defer { daemon.stop() }
        try daemon.waitForReady(timeout: 30)
        let us = Corpus(topic: "orders.us", count: 50, partitions: 2)
        try us.produce(bootstrap: broker.bootstrap)
        broker.command("topic orders.eu 2")
        // Created before anything asks for it (a metadata request would auto-create it with the default count).
        #expect(broker.child.waitForOutput("ok", timeout: 10))
        let eu = Corpus(topic: "orders.eu", count: 50, partitions: 2)
        try eu.produce(bootstrap: broker.bootstrap)
        // Every record of both topics, told apart by their value (duplicates allowed).
        func identity(_ r: Received) -> String? {
            guard let value = r.value, let seq = Corpus.sequence(r) else { return nil }
            return (String(decoding: value, as: UTF8.self).contains("orders.eu") ? "eu-" : "us-") + String(seq)
        }
        let got = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["dst"], timeout: 60) { records in
            Set(records.compactMap(identity)).count >= 100
        }
        let arrived = Set(got.compactMap(identity))
        #expect(arrived.filter { $0.hasPrefix("us-") }.count == 50)
        #expect(arrived.filter { $0.hasPrefix("eu-") }.count == 50, "the new topic's records arrived too")
        // Workers report every second: the records can arrive before the snapshot that shows
        // the new topic's partitions.
        let status = try daemon.waitForStatus("the new topic's partitions assigned", timeout: 10) {
            $0.totals.assignedPartitions == 4
        }
        #expect(status.totals.assignedPartitions == 4, "\(status.renderText())")
    }
}

@Suite(.serialized) struct AutoscaleSystemTests {
    @Test func scalesUpWhileTheLagStaysHighAndDownWhenItIsGone() throws {
        let dir = makeTempDirectory()
        let source = try DevBrokerProcess(topics: ["src"], partitions: 4, directory: dir)
        defer { source.child.stop() }
        let targetDir = dir + "/target"
        try FileManager.default.createDirectory(atPath: targetDir, withIntermediateDirectories: true)
        let target = try DevBrokerProcess(topics: ["dst"], partitions: 4, directory: targetDir)
        defer { target.child.stop() }
        // A slow target: records wait, the lag builds while records keep coming.
        target.command("latency 1 1000")
        let config = try supervisorConfig(dir, appid: "autoscale-test", bootstrap: source.bootstrap, extra: """
            ,
            "target_broker": "\(target.bootstrap)", "metrics": "off", "workers": 1,
            "autoscale": {"min": 1, "max": 2, "scale_up_lag": 500, "scale_down_lag": 10, "for": "2s", "cooldown": "3s"}
            """)
        let daemon = try Daemon(directory: dir, config: config, workers: 1)
        defer { daemon.stop() }
        try daemon.waitForReady(timeout: 30)
        // --workers on the command line is within min…max: the daemon starts with one.
        #expect(try daemon.status().workersTarget == 1)

        let corpus = Corpus(topic: "src", count: 0, partitions: 4)
        let producer = BackgroundProducer(bootstrap: source.bootstrap, topic: "src", batch: 300, interval: 0.1) { corpus.outgoing($0) }
        defer { _ = try? producer.stop() }
        let up = try daemon.waitForStatus("two workers", timeout: 60) { $0.workersTarget == 2 }
        #expect(up.autoscale?.lastDecision?.hasSuffix("1 → 2 workers") == true, "\(up.renderText())")
        #expect(daemon.log.contains("autoscale: lag "), "\(daemon.log.suffix(2000))")
        let produced = try producer.stop()
        target.command("latency 1 0")
        let down = try daemon.waitForStatus("back to one worker", timeout: 90) { $0.workersTarget == 1 && $0.workersUp == 1 }
        #expect(down.autoscale?.lastDecision?.hasSuffix("2 → 1 workers") == true, "\(down.renderText())")
        try expectEveryRecordArrived("autoscale", bootstrap: target.bootstrap, corpus: Corpus(topic: "src", count: produced, partitions: 4),
                                     targetPartitions: 4)
    }
}
