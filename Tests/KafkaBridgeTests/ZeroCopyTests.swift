import Foundation
import KafkaBridge
import StreamForgeTestSupport
import Testing

/// Records sent straight from the consumed records' buffers (`sendFromBuffers(of:)`, batch
/// consumption): every copy arrives byte for byte, headers taken or copied, and every consumed
/// record is destroyed once its last copy is reported, also when a copy fails or none is sent.
@Suite(.serialized) struct ZeroCopyTests {
    @Test func fanOutFromConsumedBuffersArrivesByteForByteAndReleasesEveryRecord() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("src", partitions: 2)
        try cluster.createTopic("a", partitions: 2)
        try cluster.createTopic("b", partitions: 2)
        let count = 300
        try KafkaTestClient.produce(bootstrap: cluster.bootstrap, topic: "src", count: count) { i in
            Outgoing(key: i % 7 == 0 ? nil : Array("key-\(i)".utf8),
                     value: i % 11 == 0 ? nil : (i % 13 == 0 ? [] : Array(repeating: UInt8(i & 0xff), count: 100 + i)),
                     headers: i % 2 == 0 ? [] : [("h", [UInt8(i & 0xff)]), ("h", nil), ("n", Array("\(i)".utf8))],
                     timestamp: 1_700_000_000_000 + Int64(i), partition: Int32(i % 2))
        }
        let source = try KafkaTestClient.consume(bootstrap: cluster.bootstrap, topics: ["src"], expected: count, timeout: 30)
        #expect(source.count == count)

        let producer = try KafkaProducer(properties: [("bootstrap.servers", cluster.bootstrap), ("enable.idempotence", "true"),
                                                      ("max.in.flight.requests.per.connection", "1"), ("linger.ms", "5")])
        let consumer = try KafkaConsumer(properties: [
            ("bootstrap.servers", cluster.bootstrap), ("group.id", "zc"), ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"),
        ], rebalanceHandler: NoRebalanceActions())
        producer.sendFromBuffers(of: consumer)
        try consumer.subscribe(["src"])
        let a = producer.topic("a"), b = producer.topic("b")
        var consumed = 0, queued = 0, reports = 0, failed = 0, refused = 0
        var keptWhileInFlight = 0
        func collect(_ timeoutMs: Int32) throws {
            try producer.pollDeliveries(timeoutMs: timeoutMs) { report in
                reports += 1
                if report.error != nil { failed += 1 }
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while consumed < count && Date() < deadline {
            guard consumer.fetchBatch(timeoutMs: 200) > 0 else { continue }
            consumer.drainBatch({ message in
                consumed += 1
                let i = Int(message.timestamp - 1_700_000_000_000)
                // Every fifth record goes nowhere (filtered): destroyed when the loop is done with it.
                if i % 5 == 0 { return }
                // Two copies: the first copies the headers, the last takes them.
                for (topic, headers) in [(a, OutgoingHeaders.from(message)), (b, .detached(message))] {
                    let error = producer.produce(topic: topic, partition: message.partition, key: message.key, value: message.value,
                                                 headers: headers, timestamp: message.timestamp, id: UInt64(i), source: message)
                    if error == nil { queued += 1 } else { refused += 1 }
                }
                // One copy to a partition that does not exist: refused now or failed in its report.
                if i % 50 == 1 {
                    let error = producer.produce(topic: a, partition: 9, key: message.key, value: message.value,
                                                 headers: .none, timestamp: message.timestamp, id: UInt64(i), source: message)
                    if error == nil { queued += 1 } else { refused += 1 }
                }
            }, errors: { error, _ in Issue.record("consumer error \(error)") })
            keptWhileInFlight = max(keptWhileInFlight, producer.keptRecords)
        }
        #expect(consumed == count)
        while reports < queued && Date() < deadline { try collect(100) }
        #expect(reports == queued)
        #expect(producer.keptRecords == 0, "a consumed record outlived its last copy's report")
        #expect(keptWhileInFlight > 0, "copies were sent from the consumed records' buffers")
        let invalid = (0..<count).filter { $0 % 50 == 1 && $0 % 5 != 0 }.count
        #expect(failed + refused == invalid)

        let expected = source.filter { Int($0.timestamp - 1_700_000_000_000) % 5 != 0 }
        for name in ["a", "b"] {
            let got = try KafkaTestClient.consume(bootstrap: cluster.bootstrap, topics: [name], expected: expected.count, timeout: 30)
            #expect(got.count == expected.count)
            let byTime = Dictionary(uniqueKeysWithValues: got.map { ($0.timestamp, $0) })
            for record in expected {
                let copy = byTime[record.timestamp]
                #expect(copy?.partition == record.partition)
                #expect(copy?.key == record.key)
                #expect(copy?.value ?? [] == record.value ?? [])
                #expect((copy?.value == nil) == (record.value == nil))
                #expect(copy?.headers == record.headers)
            }
        }
        consumer.close()
    }
}
