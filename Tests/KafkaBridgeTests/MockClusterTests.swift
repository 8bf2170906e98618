import Foundation
import KafkaBridge
import StreamForgeCore
import Testing

/// Collects what a consumer's group membership did.
final class RecordingRebalance: RebalanceHandler {
    var assigned: [KafkaBridge.TopicPartition] = []
    var revoked: [KafkaBridge.TopicPartition] = []
    func partitionsAssigned(_ partitions: [KafkaBridge.TopicPartition]) { assigned += partitions }
    func partitionsRevoked(_ partitions: [KafkaBridge.TopicPartition], lost: Bool) { revoked += partitions }
}

struct Received {
    var partition: Int32
    var offset: Int64
    var key: [UInt8]?
    var value: [UInt8]?
    var headers: [(String, [UInt8]?)]
    var timestamp: Int64
}

func consumeAll(bootstrap: String, topic: String, expected: Int, timeout: TimeInterval = 30) throws -> [Received] {
    let handler = RecordingRebalance()
    let consumer = try KafkaConsumer(properties: [
        ("bootstrap.servers", bootstrap), ("group.id", "verify-\(UUID().uuidString)"),
        ("auto.offset.reset", "earliest"), ("enable.auto.commit", "false"),
    ], rebalanceHandler: handler)
    try consumer.subscribe([topic])
    var out: [Received] = []
    let deadline = Date().addingTimeInterval(timeout)
    while out.count < expected && Date() < deadline {
        _ = consumer.poll(timeoutMs: 200) { m in
            out.append(Received(partition: m.partition, offset: m.offset, key: m.key.map { Array($0) },
                                value: m.value.map { Array($0) },
                                headers: m.headers.map { ($0.name, $0.value.map { Array($0) }) }, timestamp: m.timestamp))
        }
    }
    consumer.close()
    return out
}

func produceAndWait(_ producer: KafkaProducer, _ topic: ProducerTopic, count: Int,
                    make: (Int) -> (key: [UInt8]?, value: [UInt8]?, headers: [(name: String, value: [UInt8]?)], ts: Int64, partition: Int32?))
    throws -> [UInt64: DeliveryReport] {
    var reports: [UInt64: DeliveryReport] = [:]
    for i in 0..<count {
        let r = make(i)
        while true {
            let err: KafkaError? = withOptionalBytes(r.key) { k in
                withOptionalBytes(r.value) { v in
                    producer.produce(topic: topic, partition: r.partition, key: k, value: v, headers: .list(r.headers),
                                     timestamp: r.ts, id: UInt64(i + 1))
                }
            }
            guard let err else { break }
            #expect(err.isQueueFull)
            try producer.pollDeliveries(timeoutMs: 10) { reports[$0.id] = $0 }
        }
    }
    let deadline = Date().addingTimeInterval(30)
    while reports.count < count && Date() < deadline {
        try producer.pollDeliveries(timeoutMs: 100) { reports[$0.id] = $0 }
    }
    return reports
}

func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

@Suite(.serialized) struct MockClusterTests {
    @Test func producesAndConsumesKeysValuesHeadersAndTimestampsByteForByte() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("bytes", partitions: 3)
        let producer = try KafkaProducer(properties: [("bootstrap.servers", cluster.bootstrap), ("enable.idempotence", "true")])
        let topic = producer.topic("bytes")
        let binary: [UInt8] = [0, 255, 10, 13, 0x80, 0xC3]
        let reports = try produceAndWait(producer, topic, count: 50) { i in
            (key: i == 0 ? nil : Array("key-\(i)".utf8) + binary,
             value: i == 1 ? nil : (i == 2 ? [] : Array("value-\(i)".utf8) + binary),
             headers: [("dup", [1]), ("dup", [2]), ("empty", []), ("null", nil)],
             ts: 1_700_000_000_000 + Int64(i), partition: Int32(i % 3))
        }
        #expect(reports.count == 50)
        #expect(reports.values.allSatisfy { $0.error == nil })

        let got = try consumeAll(bootstrap: cluster.bootstrap, topic: "bytes", expected: 50)
        #expect(got.count == 50)
        for r in got {
            let i = Int(r.timestamp - 1_700_000_000_000)
            #expect(r.partition == Int32(i % 3))
            #expect(r.key == (i == 0 ? nil : Array("key-\(i)".utf8) + binary))
            if i == 1 { #expect(r.value == nil) } else if i == 2 { #expect(r.value?.isEmpty ?? true) }
            else { #expect(r.value == Array("value-\(i)".utf8) + binary) }
            #expect(r.headers.map(\.0) == ["dup", "dup", "empty", "null"])
            #expect(r.headers[0].1 == [1] && r.headers[1].1 == [2])
            #expect(r.headers[3].1 == nil)
        }
    }

    @Test func defaultPartitionerMatchesJavaMurmur2() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("keys", partitions: 7)
        let producer = try KafkaProducer(properties: [("bootstrap.servers", cluster.bootstrap), ("partitioner", "murmur2_random")])
        let topic = producer.topic("keys")
        let reports = try produceAndWait(producer, topic, count: 200) { i in
            (key: Array("user-\(i)".utf8), value: Array("v".utf8), headers: [], ts: 0, partition: nil)
        }
        #expect(reports.count == 200)
        for (id, report) in reports {
            let key = Array("user-\(id - 1)".utf8)
            #expect(report.partition == Murmur2.partition(forKey: key, partitionCount: 7))
            #expect(report.partition == librdkafkaMurmur2Partition(key: key, partitionCount: 7))
        }
        #expect(try producer.partitionCount(of: topic, timeoutMs: 5000) == 7)
    }

    @Test func groupConsumerGetsEveryPartitionAndCommitsWhatItStores() throws {
        let cluster = try MockCluster(brokers: 3)
        try cluster.createTopic("grp", partitions: 4, replicationFactor: 3)
        let producer = try KafkaProducer(properties: [("bootstrap.servers", cluster.bootstrap)])
        _ = try produceAndWait(producer, producer.topic("grp"), count: 40) { i in
            (key: nil, value: Array("\(i)".utf8), headers: [], ts: 0, partition: Int32(i % 4))
        }
        let handler = RecordingRebalance()
        let consumer = try KafkaConsumer(properties: [
            ("bootstrap.servers", cluster.bootstrap), ("group.id", "g1"), ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"),
            ("partition.assignment.strategy", "cooperative-sticky"),
        ], rebalanceHandler: handler)
        try consumer.subscribe(["grp"])
        var seen = 0
        let deadline = Date().addingTimeInterval(20)
        while seen < 40 && Date() < deadline { _ = consumer.poll(timeoutMs: 200) { _ in seen += 1 } }
        #expect(seen == 40)
        #expect(Set(handler.assigned.map(\.partition)) == [0, 1, 2, 3])
        let tp = KafkaBridge.TopicPartition(topic: "grp", partition: 2)
        try consumer.storeOffsets([TopicPartitionOffset(tp, offset: 7)])
        try consumer.commit([TopicPartitionOffset(tp, offset: 7)], async: false)
        #expect(try consumer.committed([tp], timeoutMs: 5000).first?.offset == 7)
        consumer.close()
        #expect(Set(handler.revoked.map(\.partition)) == [0, 1, 2, 3])
    }

    @Test func invalidPropertyIsReportedWithItsName() {
        #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(properties: [("no.such.property", "1")])
        }
        do {
            _ = try KafkaProducer(properties: [("no.such.property", "1")])
        } catch {
            #expect(error.message.contains("no.such.property"))
        }
    }

    @Test func deliveryWaitsThroughABrokerOutage() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("outage", partitions: 1)
        let producer = try KafkaProducer(properties: [
            ("bootstrap.servers", cluster.bootstrap), ("enable.idempotence", "true"), ("message.timeout.ms", "0"),
        ])
        let topic = producer.topic("outage")
        _ = try produceAndWait(producer, topic, count: 1) { _ in (nil, [1], [], 0, 0) }
        try cluster.setBrokerDown(1)
        var delivered: [DeliveryReport] = []
        _ = [UInt8](arrayLiteral: 2).withUnsafeBytes {
            producer.produce(topic: topic, partition: 0, key: nil, value: $0, headers: .none, timestamp: 0, id: 99)
        }
        let until = Date().addingTimeInterval(2)
        while Date() < until { try producer.pollDeliveries(timeoutMs: 100) { delivered.append($0) } }
        #expect(delivered.isEmpty, "with the broker down the record must wait, not fail")
        try cluster.setBrokerUp(1)
        let deadline = Date().addingTimeInterval(20)
        while delivered.isEmpty && Date() < deadline { try producer.pollDeliveries(timeoutMs: 100) { delivered.append($0) } }
        #expect(delivered.count == 1)
        #expect(delivered.first?.error == nil)
        #expect(delivered.first?.id == 99)
    }
}
