import KafkaBridge
import StreamForgeCore

/// One destination's target for a source topic.
struct Route {
    var index: Int
    var topic: ProducerTopic
    var preservePartition: Bool
}

/// Resolves, once per source topic, which target topics a record goes to.
final class Router {
    let destinations: [DestinationConfig]
    let producer: KafkaProducer
    private var cache: [Int: [Route]] = [:]

    init(config: StreamForgeConfig, producer: KafkaProducer) {
        destinations = Array(config.destinations.prefix(OffsetTracker.maxDestinations))
        self.producer = producer
    }

    var destinationCount: Int { destinations.count }

    func destinationName(_ index: Int) -> String {
        index < destinations.count ? destinations[index].output : "?"
    }

    @inline(__always)
    func routes(for message: ConsumedMessage) -> [Route] {
        if let routes = cache[message.topicID] { return routes }
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
}
