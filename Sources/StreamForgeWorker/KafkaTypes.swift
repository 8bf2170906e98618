import KafkaBridge

/// The worker speaks of partitions in KafkaBridge's terms; the supervisor protocol has its
/// own Codable twin in StreamForgeCore.
public typealias TopicPartition = KafkaBridge.TopicPartition

extension KafkaBridge.TopicPartition {
    var wire: StreamForgeCore.TopicPartition { .init(topic: topic, partition: partition) }
}

import StreamForgeCore
