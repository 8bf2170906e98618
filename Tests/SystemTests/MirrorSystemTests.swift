import Foundation
import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import StreamForgeTestSupport
import Testing

/// The records a system test writes: keyed, with repeated headers and explicit timestamps,
/// each carrying its source topic and sequence number so the copy can be checked exactly.
struct Corpus {
    let topic: String
    let count: Int
    let partitions: Int32

    func key(_ i: Int) -> [UInt8] { Array("k-\(topic)-\(i)".utf8) }
    func value(_ i: Int) -> [UInt8] { Array("{\"topic\":\"\(topic)\",\"i\":\(i),\"pad\":\"\(String(repeating: "x", count: i % 40))\"}".utf8) }
    func headers(_ i: Int) -> [(name: String, value: [UInt8]?)] {
        [("seq", Array("\(i)".utf8)), ("dup", [0x01]), ("dup", [0x02, 0x00]), ("empty", nil)]
    }
    func timestamp(_ i: Int) -> Int64 { 1_700_000_000_000 + Int64(i) }
    func sourcePartition(_ i: Int) -> Int32 { Int32(i % Int(partitions)) }

    func produce(bootstrap: String) throws {
        try KafkaTestClient.produce(bootstrap: bootstrap, topic: topic, count: count) { i in
            Outgoing(key: key(i), value: value(i), headers: headers(i), timestamp: timestamp(i), partition: sourcePartition(i))
        }
    }

    /// The sequence number of a copied record, from its `seq` header.
    static func sequence(_ r: Received) -> Int? {
        guard let h = r.headers.first(where: { $0.name == "seq" }), let v = h.value else { return nil }
        return Int(String(decoding: v, as: UTF8.self))
    }
}

struct CopyCheck {
    var unique = 0
    var duplicates = 0
    var problems: [String] = []

    /// Checks every copy against the corpus: bytes, headers (order and duplicates), timestamp,
    /// murmur2 partition, and per-source-partition order within each target partition.
    init(_ received: [Received], corpus: Corpus, targetPartitions: Int32) {
        var seen = Set<Int>()
        var lastSeq: [String: Int] = [:]
        for r in received.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            guard let i = Corpus.sequence(r), i >= 0, i < corpus.count else {
                problems.append("unexpected record at \(r.topic)[\(r.partition)]@\(r.offset)")
                continue
            }
            if !seen.insert(i).inserted { duplicates += 1; continue }
            if r.key != corpus.key(i) { problems.append("key of \(i) differs") }
            if r.value != corpus.value(i) { problems.append("value of \(i) differs") }
            let expectedHeaders = corpus.headers(i).map { Received.Header($0.name, $0.value) }
            if r.headers != expectedHeaders { problems.append("headers of \(i) differ: \(r.headers)") }
            if r.timestamp != corpus.timestamp(i) { problems.append("timestamp of \(i) differs: \(r.timestamp)") }
            if r.partition != Murmur2.partition(forKey: corpus.key(i), partitionCount: targetPartitions) {
                problems.append("record \(i) is in partition \(r.partition), not murmur2's")
            }
            let orderKey = "\(r.partition)/\(corpus.sourcePartition(i))"
            if let last = lastSeq[orderKey], last > i { problems.append("record \(i) after \(last) in \(orderKey)") }
            lastSeq[orderKey] = i
        }
        unique = seen.count
    }
}

func writeConfig(_ dir: String, _ json: String) throws -> String {
    let path = dir + "/config.json"
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite(.serialized) struct MirrorSystemTests {
    @Test func mirrorsTwoTopicsByteForByteInPartitionOrder() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src-a", "src-b", "src-a-copy", "src-b-copy"], partitions: 8, directory: dir)
        let a = Corpus(topic: "src-a", count: 50_000, partitions: 8)
        let b = Corpus(topic: "src-b", count: 50_000, partitions: 8)
        try a.produce(bootstrap: broker.bootstrap)
        try b.produce(bootstrap: broker.bootstrap)

        let config = try writeConfig(dir, """
            {"appid": "mirror-test", "bootstrap": "\(broker.bootstrap)", "input": "src-a,src-b",
             "output": "{source_topic}-copy", "offset": "earliest",
             "commit_strategy": {"manual_commit": true, "commit_interval_ms": 500}}
            """)
        let daemon = try ChildProcess(binaryPath("streamforged"),
                                      ["run", "--config", config, "--exit-after-records", "100000"],
                                      logPath: dir + "/streamforged.log")
        let status = daemon.wait(timeout: 180)
        #expect(status == 0, "streamforged: \(daemon.output.suffix(2000))")

        for corpus in [a, b] {
            let got = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: [corpus.topic + "-copy"],
                                                  expected: corpus.count, timeout: 90)
            let check = CopyCheck(got, corpus: corpus, targetPartitions: 8)
            #expect(check.unique == corpus.count, "\(corpus.topic): \(check.unique) of \(corpus.count) arrived")
            #expect(check.duplicates == 0)
            #expect(check.problems.isEmpty, "\(check.problems.prefix(5))")
        }
        // Everything was committed: a restart would re-read nothing.
        for corpus in [a, b] {
            let committed = try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "mirror-test",
                                                               topic: corpus.topic, partitions: 8)
            #expect(committed == Int64(corpus.count))
        }
    }

    @Test func killDashNineMidwayLosesNothing() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 16, directory: dir)
        let corpus = Corpus(topic: "src", count: 200_000, partitions: 16)
        try corpus.produce(bootstrap: broker.bootstrap)
        let config = try writeConfig(dir, """
            {"appid": "kill-test", "bootstrap": "\(broker.bootstrap)", "input": "src", "output": "dst",
             "offset": "earliest", "commit_strategy": {"manual_commit": true, "commit_interval_ms": 200}}
            """)

        let first = try ChildProcess(binaryPath("streamforged"), ["run", "--config", config],
                                     logPath: dir + "/first.log")
        #expect(first.waitForOutput("partitions assigned", timeout: 60), "\(first.output)")
        // Let it copy part of the topic, then kill it without warning.
        /// The group's committed total once it reaches `target` (or at `timeout`).
        func committedTotal(reaching target: Int64, timeout: TimeInterval) throws -> Int64 {
            var committed: Int64 = 0
            let until = Date().addingTimeInterval(timeout)
            while committed < target && Date() < until {
                usleep(100_000)
                committed = try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "kill-test", topic: "src", partitions: 16)
            }
            return committed
        }
        _ = try committedTotal(reaching: 20_000, timeout: 60)
        first.signal(SIGKILL)
        first.wait(timeout: 10)
        let atKill = try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "kill-test", topic: "src", partitions: 16)
        #expect(atKill > 0 && atKill < Int64(corpus.count), "the kill must land midway (committed \(atKill))")

        let second = try ChildProcess(binaryPath("streamforged"), ["run", "--config", config],
                                      logPath: dir + "/second.log")
        let committed = try committedTotal(reaching: Int64(corpus.count), timeout: 180)
        second.signal(SIGTERM)
        #expect(second.wait(timeout: 60) == 0, "SIGTERM drains and exits 0: \(second.output.suffix(1500))")
        #expect(committed == Int64(corpus.count))

        let got = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["dst"], expected: corpus.count * 2,
                                              timeout: 20)
        let check = CopyCheck(got, corpus: corpus, targetPartitions: 16)
        print("kill -9 midway (committed \(atKill) of \(corpus.count)): \(check.unique) unique records, \(check.duplicates) duplicates")
        #expect(check.unique == corpus.count, "lost \(corpus.count - check.unique) records")
        #expect(check.problems.filter { !$0.contains(" after ") }.isEmpty, "\(check.problems.prefix(5))")
    }
}

@Suite struct OffsetErrorSystemTests {
    /// `offset: error`: a committed position that no longer exists (purged or recreated data)
    /// stops the worker with a message instead of silently skipping to either end.
    @Test func offsetErrorReportsAPositionThatNoLongerExists() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 1, directory: dir)
        try KafkaTestClient.produce(bootstrap: broker.bootstrap, topic: "src", count: 10) { i in
            Outgoing(key: Array("k\(i)".utf8), value: Array("v\(i)".utf8), partition: 0)
        }
        try KafkaTestClient.commit(bootstrap: broker.bootstrap, group: "gone-test",
                                   [TopicPartitionOffset(KafkaBridge.TopicPartition(topic: "src", partition: 0), offset: 5000)])
        let config = try writeConfig(dir, """
            {"appid": "gone-test", "bootstrap": "\(broker.bootstrap)", "input": "src", "output": "dst",
             "offset": "error", "consumer_properties": {"session.timeout.ms": 6000}}
            """)
        let worker = try ChildProcess(binaryPath("streamforged"), ["run", "--config", config], logPath: dir + "/run.log")
        let status = worker.wait(timeout: 60)
        #expect(status == 75, "a transient exit: the supervisor retries with backoff and status shows it")
        #expect(worker.output.contains("offset out of range and offset is 'error'"), "\(worker.output.suffix(1500))")
        let copied = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["dst"], expected: 1, timeout: 3)
        #expect(copied.isEmpty, "nothing was read from either end of the partition")
        #expect(try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "gone-test", topic: "src", partitions: 1) == 5000)
    }
}

@Suite struct DeliveryFailureSystemTests {
    /// A produce the target rejects for good must never let the record's offset be committed:
    /// the worker stops (exit 75, the supervisor restarts it) and the record is read again.
    @Test func rejectedDeliveryStopsTheWorkerWithoutCommittingPastTheRecord() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["src", "dst"], partitions: 1, directory: dir)
        try KafkaTestClient.produce(bootstrap: broker.bootstrap, topic: "src", count: 20) { i in
            Outgoing(key: Array("k\(i)".utf8), value: Array("v\(i)".utf8), partition: 0)
        }
        // Every Produce request fails with INVALID_RECORD (87), which librdkafka does not retry.
        broker.command("error 0 1000 87")
        let config = try writeConfig(dir, """
            {"appid": "reject-test", "bootstrap": "\(broker.bootstrap)", "input": "src", "output": "dst",
             "offset": "earliest", "commit_strategy": {"commit_interval_ms": 100},
             "consumer_properties": {"session.timeout.ms": 6000}}
            """)
        let first = try ChildProcess(binaryPath("streamforged"), ["run", "--config", config], logPath: dir + "/first.log")
        #expect(first.wait(timeout: 60) == 75, "\(first.output.suffix(1500))")
        #expect(first.output.contains("unable to deliver a record, stopping the worker"))
        #expect(try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "reject-test", topic: "src", partitions: 1) == 0)

        broker.command("clear 0")
        let second = try ChildProcess(binaryPath("streamforged"), ["run", "--config", config, "--exit-after-records", "20"],
                                      logPath: dir + "/second.log")
        #expect(second.wait(timeout: 60) == 0, "\(second.output.suffix(1500))")
        let copied = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["dst"], expected: 20, timeout: 20)
        #expect(Set(copied.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }) == Set((0..<20).map { "k\($0)" }))
    }
}
