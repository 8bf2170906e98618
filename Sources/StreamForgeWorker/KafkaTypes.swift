public import KafkaBridge
import StreamForgeIPC

/// The worker speaks of partitions in KafkaBridge's terms; the supervisor link carries the
/// Codable `StreamForgeIPC.TopicPartition`. KafkaBridge depends on no StreamForge module, so
/// the two stay apart and meet only here.
public typealias TopicPartition = KafkaBridge.TopicPartition

extension KafkaBridge.TopicPartition {
    var wire: StreamForgeIPC.TopicPartition { .init(topic: topic, partition: partition) }
}
