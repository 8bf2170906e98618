// The partition counts of target topics, read from the target cluster's metadata, for dry-run's
// partition numbers. The cluster is asked once per topic; if it cannot be reached, it is not
// asked again, and partitions stay unknown unless `--partitions` gives the count.

import KafkaBridge
import StreamForgeCore
import StreamForgeLanguage

final class TargetPartitions {
    private let properties: [(key: String, value: String)]
    private let timeoutMs: Int32
    private var producer: KafkaProducer?
    private var counts: [String: Int32?] = [:]
    private var unreachable = false

    init(config: StreamForgeConfig, timeoutSeconds: Int) {
        // The worker's producer settings (bootstrap, security, the user's properties), for a
        // client that only reads metadata: it must not create topics, nor log connection errors.
        properties = ClientProperties.producer(config, slot: 0) + [
            ("enable.idempotence", "false"),
            ("allow.auto.create.topics", "false"),
            ("log_level", "0"),
        ]
        timeoutMs = Int32(clamping: timeoutSeconds * 1000)
    }

    func count(of topic: String) -> Int32? {
        if let known = counts[topic] { return known }
        guard !unreachable else { return nil }
        do {
            if producer == nil { producer = try KafkaProducer(properties: properties) }
            guard let producer else { return nil }
            let count = try producer.partitionCount(of: producer.topic(topic), timeoutMs: timeoutMs)
            counts[topic] = count
            return count
        } catch {
            if error.isTransportLevel {
                unreachable = true
                printError("streamforgectl: the target cluster is not reachable (\(error.message)); partitions are not numbered: pass --partitions N")
            } else {
                printError("streamforgectl: unable to read the partition count of '\(topic)': \(error.message)")
            }
            counts[topic] = .some(nil)
            return nil
        }
    }
}
