import Foundation
import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import StreamForgeTestSupport
import StreamForgeWorker
import Testing

/// A delivery report that says "delivered" must mean the broker stored the record: the
/// worker stores offsets on it. These tests make one Produce request fail while later
/// requests of the same partition are in flight (a 300 ms round trip, a record every 40 ms)
/// and then count what the partition really holds.
///
/// librdkafka's idempotent producer treats a later request's success as proof that an
/// earlier failed request was written too ("implicit ack"), which only a broker that checks
/// producer sequences makes true. The mock cluster does not check them for a producer
/// without a transactional id, so with several requests in flight the failed request's
/// records are reported delivered and are never written.
@Suite(.serialized) struct DeliveryReportTruthTests {
    struct Outcome {
        var acknowledged = 0
        var failed = 0
        var stored = 0
    }

    static func produceThroughAFailedRequest(_ properties: [(key: String, value: String)]) throws -> Outcome {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 1)
        try cluster.setBrokerLatency(1, milliseconds: 300)
        let producer = try KafkaProducer(properties: properties + [("bootstrap.servers", cluster.bootstrap),
                                                                   ("linger.ms", "0"), ("retry.backoff.ms", "10")])
        let topic = producer.topic("t")
        var outcome = Outcome()
        func collect(_ timeoutMs: Int32) throws {
            try producer.pollDeliveries(timeoutMs: timeoutMs) { report in
                if report.error == nil { outcome.acknowledged += 1 } else { outcome.failed += 1 }
            }
        }
        func send(_ i: Int) {
            let value = Array("record-\(i)".utf8)
            _ = value.withUnsafeBytes {
                producer.produce(topic: topic, partition: 0, key: nil, value: $0, headers: .none, timestamp: 0,
                                 id: UInt64(i + 1))
            }
        }
        // Warm up: metadata and the producer id, so the next requests go straight out.
        send(0)
        while outcome.acknowledged + outcome.failed < 1 { try collect(100) }
        cluster.pushRequestErrors(apiKey: 0, count: 1, errorCode: 6)  // NOT_LEADER_OR_FOLLOWER
        for i in 1...10 {
            send(i)
            try collect(40)
        }
        let deadline = Date().addingTimeInterval(30)
        while outcome.acknowledged + outcome.failed < 11 && Date() < deadline { try collect(100) }
        outcome.stored = try KafkaTestClient.consume(bootstrap: cluster.bootstrap, topics: ["t"], expected: 11,
                                                     timeout: 20).count
        return outcome
    }

    @Test func streamForgesProducerDefaultsNeverReportAnUnwrittenRecordDelivered() throws {
        let config = StreamForgeConfig(appid: "truth", bootstrap: "unused:9092", input: .topics(["t"]), output: "t")
        let defaults = ClientProperties.producer(config, slot: 0).filter { $0.key != "bootstrap.servers" }
        let outcome = try Self.produceThroughAFailedRequest(defaults)
        #expect(outcome.acknowledged + outcome.failed == 11, "every record gets a report")
        #expect(outcome.stored >= outcome.acknowledged, "records reported delivered but not in the partition")
    }

    /// The same scenario with librdkafka's default of five requests in flight loses records on
    /// this broker: the test above can fail, and this says why the default is one.
    @Test func fiveRequestsInFlightLoseARecordThatWasReportedDelivered() throws {
        let outcome = try Self.produceThroughAFailedRequest([("enable.idempotence", "true"),
                                                            ("max.in.flight.requests.per.connection", "5")])
        #expect(outcome.acknowledged == 11)
        #expect(outcome.stored < outcome.acknowledged)
    }
}
