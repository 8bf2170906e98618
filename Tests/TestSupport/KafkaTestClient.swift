public import Foundation
public import KafkaBridge

/// A record as read back by a test.
public struct Received: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [Header]
    public var timestamp: Int64

    public struct Header: Equatable, Sendable {
        public var name: String
        public var value: [UInt8]?
        public init(_ name: String, _ value: [UInt8]?) {
            self.name = name
            self.value = value
        }
    }
}

/// A record a test produces.
public struct Outgoing {
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [(name: String, value: [UInt8]?)]
    public var timestamp: Int64
    public var partition: Int32?
    public init(key: [UInt8]?, value: [UInt8]?, headers: [(name: String, value: [UInt8]?)] = [], timestamp: Int64 = 0,
                partition: Int32? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.partition = partition
    }
}

public final class NoRebalanceActions: RebalanceHandler {
    public private(set) var assigned: [KafkaBridge.TopicPartition] = []
    public private(set) var revoked: [KafkaBridge.TopicPartition] = []
    public init() {}
    public func partitionsAssigned(_ partitions: [KafkaBridge.TopicPartition]) { assigned += partitions }
    public func partitionsRevoked(_ partitions: [KafkaBridge.TopicPartition], lost: Bool) { revoked += partitions }
}

public enum KafkaTestClient {
    /// Reads topics from the beginning with a fresh group until `expected` records arrived, or
    /// nothing new came for `quietSeconds` after the deadline passed.
    public static func consume(bootstrap: String, topics: [String], expected: Int, timeout: TimeInterval = 60,
                               extra: [(key: String, value: String)] = []) throws -> [Received] {
        let handler = NoRebalanceActions()
        let consumer = try KafkaConsumer(properties: [
            ("bootstrap.servers", bootstrap), ("group.id", "verify-\(UUID().uuidString)"),
            ("auto.offset.reset", "earliest"), ("enable.auto.commit", "false"),
        ] + extra, rebalanceHandler: handler)
        try consumer.subscribe(topics)
        var out: [Received] = []
        out.reserveCapacity(expected)
        let deadline = Date().addingTimeInterval(timeout)
        while out.count < expected && Date() < deadline {
            _ = consumer.poll(timeoutMs: 200) { m in
                out.append(Received(topic: m.topic, partition: m.partition, offset: m.offset, key: m.key.map { Array($0) },
                                    value: m.value.map { Array($0) },
                                    headers: m.headers.map { .init($0.name, $0.value.map { Array($0) }) },
                                    timestamp: m.timestamp))
            }
        }
        consumer.close()
        return out
    }

    /// Produces every record and waits until all are acknowledged; returns the reports by id (1-based index).
    @discardableResult
    public static func produce(bootstrap: String, topic name: String, count: Int,
                               extra: [(key: String, value: String)] = [],
                               _ make: (Int) -> Outgoing) throws -> [UInt64: DeliveryReport] {
        let producer = try KafkaProducer(properties: [("bootstrap.servers", bootstrap), ("enable.idempotence", "true"),
                                                      ("linger.ms", "5")] + extra)
        let topic = producer.topic(name)
        var reports: [UInt64: DeliveryReport] = [:]
        for i in 0..<count {
            let r = make(i)
            while true {
                let err: KafkaError? = withOptionalBytes(r.key) { k in
                    withOptionalBytes(r.value) { v in
                        producer.produce(topic: topic, partition: r.partition, key: k, value: v, headers: .list(r.headers),
                                         timestamp: r.timestamp, id: UInt64(i + 1))
                    }
                }
                guard let err else { break }
                guard err.isQueueFull else { throw err }
                try producer.pollDeliveries(timeoutMs: 10) { reports[$0.id] = $0 }
            }
        }
        let deadline = Date().addingTimeInterval(60)
        while reports.count < count && Date() < deadline {
            try producer.pollDeliveries(timeoutMs: 100) { reports[$0.id] = $0 }
        }
        if let failed = reports.values.first(where: { $0.error != nil }) { throw failed.error! }
        if reports.count < count { throw KafkaError(code: -1, message: "only \(reports.count) of \(count) records acknowledged") }
        return reports
    }

    public static func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBytes { body($0) }
    }
}

extension KafkaTestClient {
    /// The sum of a group's committed offsets over a topic's partitions (without joining it).
    public static func committedTotal(bootstrap: String, group: String, topic: String, partitions: Int32) throws -> Int64 {
        let consumer = try KafkaConsumer(properties: [("bootstrap.servers", bootstrap), ("group.id", group)],
                                         rebalanceHandler: NoRebalanceActions())
        let offsets = try consumer.committed((0..<partitions).map { KafkaBridge.TopicPartition(topic: topic, partition: $0) },
                                             timeoutMs: 5000)
        return offsets.reduce(0) { $0 + max(0, $1.offset) }
    }
}

extension KafkaTestClient {
    /// Commits offsets for a group without joining it (as an operator's tool would).
    public static func commit(bootstrap: String, group: String, _ offsets: [TopicPartitionOffset]) throws {
        let consumer = try KafkaConsumer(properties: [("bootstrap.servers", bootstrap), ("group.id", group)],
                                         rebalanceHandler: NoRebalanceActions())
        try consumer.commit(offsets, async: false)
    }
}
