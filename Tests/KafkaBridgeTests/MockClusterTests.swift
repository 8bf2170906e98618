import Foundation
import KafkaBridge
import StreamForgeLanguage
import StreamForgeTestSupport
import Testing

@Suite(.serialized) struct MockClusterTests {
    @Test func producesAndConsumesKeysValuesHeadersAndTimestampsByteForByte() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("bytes", partitions: 3)
        let binary: [UInt8] = [0, 255, 10, 13, 0x80, 0xC3]
        try KafkaTestClient.produce(bootstrap: cluster.bootstrap, topic: "bytes", count: 50) { i in
            Outgoing(key: i == 0 ? nil : Array("key-\(i)".utf8) + binary,
                     value: i == 1 ? nil : (i == 2 ? [] : Array("value-\(i)".utf8) + binary),
                     headers: [("dup", [1]), ("dup", [2]), ("empty", []), ("null", nil)],
                     timestamp: 1_700_000_000_000 + Int64(i), partition: Int32(i % 3))
        }
        let got = try KafkaTestClient.consume(bootstrap: cluster.bootstrap, topics: ["bytes"], expected: 50, timeout: 30)
        #expect(got.count == 50)
        for r in got {
            let i = Int(r.timestamp - 1_700_000_000_000)
            #expect(r.partition == Int32(i % 3))
            #expect(r.key == (i == 0 ? nil : Array("key-\(i)".utf8) + binary))
            if i == 1 { #expect(r.value == nil) } else if i == 2 { #expect(r.value?.isEmpty ?? true) }
            else { #expect(r.value == Array("value-\(i)".utf8) + binary) }
            #expect(r.headers.map(\.name) == ["dup", "dup", "empty", "null"])
            #expect(r.headers[0].value == [1] && r.headers[1].value == [2])
            #expect(r.headers[3].value == nil)
        }
    }

    @Test func defaultPartitionerMatchesJavaMurmur2() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("keys", partitions: 7)
        let reports = try KafkaTestClient.produce(bootstrap: cluster.bootstrap, topic: "keys", count: 200,
                                                  extra: [("partitioner", "murmur2_random")]) { i in
            Outgoing(key: Array("user-\(i)".utf8), value: Array("v".utf8))
        }
        #expect(reports.count == 200)
        for (id, report) in reports {
            let key = Array("user-\(id - 1)".utf8)
            #expect(report.partition == Murmur2.partition(forKey: key, partitionCount: 7))
            #expect(report.partition == librdkafkaMurmur2Partition(key: key, partitionCount: 7))
        }
        let producer = try KafkaProducer(properties: [("bootstrap.servers", cluster.bootstrap)])
        #expect(try producer.partitionCount(of: producer.topic("keys"), timeoutMs: 5000) == 7)
    }

    @Test func groupConsumerGetsEveryPartitionAndCommitsWhatItStores() throws {
        let cluster = try MockCluster(brokers: 3)
        try cluster.createTopic("grp", partitions: 4, replicationFactor: 3)
        try KafkaTestClient.produce(bootstrap: cluster.bootstrap, topic: "grp", count: 40) { i in
            Outgoing(key: nil, value: Array("\(i)".utf8), partition: Int32(i % 4))
        }
        let handler = NoRebalanceActions()
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
        try KafkaTestClient.produce(bootstrap: cluster.bootstrap, topic: "outage", count: 1) { _ in
            Outgoing(key: nil, value: [1], partition: 0)
        }
        let producer = try KafkaProducer(properties: [
            ("bootstrap.servers", cluster.bootstrap), ("enable.idempotence", "true"), ("message.timeout.ms", "0"),
        ])
        let topic = producer.topic("outage")
        #expect(try producer.partitionCount(of: topic, timeoutMs: 5000) == 1)
        try cluster.setBrokerDown(1)
        var delivered: [DeliveryReport] = []
        let queued = [UInt8](arrayLiteral: 2).withUnsafeBytes {
            producer.produce(topic: topic, partition: 0, key: nil, value: $0, headers: .none, timestamp: 0, id: 99)
        }
        #expect(queued == nil)
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
