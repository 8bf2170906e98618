import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage

/// One destination's target for a source topic (the pure-mirror path).
struct Route {
    var index: Int
    var topic: ProducerTopic
    var preservePartition: Bool
}

/// Resolves target topics and partitions: once per source topic for the pure mirror, once per
/// topic name for records the language rewrote.
final class Router {
    let destinations: [DestinationConfig]
    let producer: KafkaProducer
    /// The compiled language, or nil when every destination passes records through unchanged.
    let pipeline: Pipeline?
    private var cache: [Int: [Route]] = [:]
    /// The last source topic's routes: records come in runs of one topic.
    private var last: (topicID: Int, routes: [Route]) = (0, [])
    private var partitionCounts: [String: Int32] = [:]

    init(config: StreamForgeConfig, producer: KafkaProducer) throws(DSLCompileErrors) {
        destinations = WorkerCore.destinations(of: config)
        self.producer = producer
        if destinations.allSatisfy(\.isPureMirror) && config.routing?.routingType != .content {
            pipeline = nil
        } else {
            pipeline = try Pipeline(routing: config.routing ?? RoutingConfig(destinations: destinations))
        }
    }

    var destinationCount: Int { destinations.count }

    @inline(__always)
    func routes(for message: ConsumedMessage) -> [Route] {
        if message.topicID == last.topicID { return last.routes }
        if let routes = cache[message.topicID] {
            last = (message.topicID, routes)
            return routes
        }
        let source = message.topic
        let routes = destinations.enumerated().map { index, destination in
            var preserve = false
            if case .preserve = destination.partition { preserve = true }
            return Route(index: index, topic: producer.topic(resolveTopicTemplate(destination.output, sourceTopic: source)),
                         preservePartition: preserve)
        }
        cache[message.topicID] = routes
        return routes
    }

    /// The partition for `partition: /field`: librdkafka's murmur2 partitioner on the field's
    /// bytes over the target's partition count (read once per topic from the cluster's
    /// metadata). `streamforgectl dry-run` and `test`, which have no librdkafka, use the language's
    /// `Murmur2`; KafkaBridge's tests pin the two to the same partitions.
    func partition(hashing bytes: [UInt8], topic: ProducerTopic) throws(KafkaError) -> Int32 {
        let count: Int32
        if let known = partitionCounts[topic.name] {
            count = known
        } else {
            // Below the supervisor's worker_timeout (5 s by default): a target that does not
            // answer stops the worker with this error instead of getting it killed as hung.
            count = try producer.partitionCount(of: topic, timeoutMs: 4_000)
            partitionCounts[topic.name] = count
        }
        return librdkafkaMurmur2Partition(key: bytes, partitionCount: count)
    }
}
