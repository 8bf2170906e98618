import CRdKafka

/// Builds an `rd_kafka_conf_t` from properties, reporting every rejected property.
struct ClientConfig {
    let handle: OpaquePointer

    init(_ properties: [(key: String, value: String)]) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(code: -1, message: "unable to allocate a configuration") }
        var problems: [String] = []
        var errbuf = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let rc = rd_kafka_conf_set(conf, key, value, &errbuf, errbuf.count)
            if rc != RD_KAFKA_CONF_OK {
                problems.append("\(key): \(text(of: errbuf))")
            }
        }
        if !problems.isEmpty {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
                             message: "invalid librdkafka properties: " + problems.joined(separator: "; "))
        }
        handle = conf
    }

    /// Creates the client; librdkafka takes the conf only on success, so it is destroyed here on failure.
    func makeClient(_ type: rd_kafka_type_t) throws(KafkaError) -> OpaquePointer {
        var errbuf = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, handle, &errbuf, errbuf.count) else {
            rd_kafka_conf_destroy(handle)
            let text = text(of: errbuf)
            throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, message: "unable to create the client: \(text)")
        }
        return rk
    }
}

/// A topic and partition.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)[\(partition)]" }
}

/// A topic, partition and offset (the next offset to read, as Kafka commits it).
public struct TopicPartitionOffset: Hashable, Sendable {
    public var topicPartition: TopicPartition
    public var offset: Int64
    public init(_ topicPartition: TopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }
}

func makePartitionList(_ items: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(items.count))!
    for item in items {
        let elem = rd_kafka_topic_partition_list_add(list, item.topicPartition.topic, item.topicPartition.partition)!
        elem.pointee.offset = item.offset
    }
    return list
}

func readPartitionList(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartitionOffset] {
    var result: [TopicPartitionOffset] = []
    let count = Int(sf_partition_list_count(list))
    result.reserveCapacity(count)
    for i in 0..<count {
        let elem = sf_partition_list_at(list, Int32(i))!.pointee
        result.append(TopicPartitionOffset(TopicPartition(topic: String(cString: elem.topic), partition: elem.partition),
                                           offset: elem.offset))
    }
    return result
}

/// The Java client's partitioner as librdkafka implements it (`murmur2_random` for non-null keys).
public func librdkafkaMurmur2Partition(key: [UInt8], partitionCount: Int32) -> Int32 {
    key.withUnsafeBytes { buf in
        rd_kafka_msg_partitioner_murmur2(nil, buf.baseAddress, buf.count, partitionCount, nil, nil)
    }
}

/// The text of a NUL-terminated C buffer.
func text(of buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Checks librdkafka properties without creating a client: the key and librdkafka's reason for
/// each rejected property (unknown name, invalid value), so a configuration can be refused
/// before any worker starts.
public func librdkafkaPropertyProblems(_ properties: [(key: String, value: String)]) -> [(key: String, reason: String)] {
    guard let conf = rd_kafka_conf_new() else { return [("", "unable to allocate a configuration")] }
    defer { rd_kafka_conf_destroy(conf) }
    var problems: [(key: String, reason: String)] = []
    var errbuf = [CChar](repeating: 0, count: 512)
    for (key, value) in properties where rd_kafka_conf_set(conf, key, value, &errbuf, errbuf.count) != RD_KAFKA_CONF_OK {
        problems.append((key, text(of: errbuf)))
    }
    return problems
}
