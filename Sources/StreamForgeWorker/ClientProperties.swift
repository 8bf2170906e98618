import StreamForgeCore

import KafkaBridge

/// librdkafka properties for a worker's clients: StreamForge's defaults first, then the
/// security block, then the user's own properties, which win.
public enum ClientProperties {
    /// What librdkafka would refuse in the consumer's and the producer's properties, as
    /// diagnostics a person can act on; empty when both clients can be created.
    public static func problems(_ config: StreamForgeConfig) -> [String] {
        let consumer = librdkafkaPropertyProblems(Self.consumer(config, slot: 0, hostname: "check"))
            .map { "\(config.sourcePath): error: consumer_properties[\"\($0.key)\"]: \($0.reason)" }
        let producer = librdkafkaPropertyProblems(Self.producer(config, slot: 0))
            .map { "\(config.sourcePath): error: producer_properties[\"\($0.key)\"]: \($0.reason)" }
        return consumer + producer
    }

    public static func consumer(_ config: StreamForgeConfig, slot: Int, hostname: String) -> [(key: String, value: String)] {
        var props: [(key: String, value: String)] = [
            ("bootstrap.servers", config.bootstrap),
            ("group.id", config.appid),
            ("client.id", "streamforge-\(config.appid)-\(slot)"),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", config.offset.rawValue),
            ("partition.assignment.strategy", "cooperative-sticky"),
            // Prefetch is per worker: N workers must fit the host's memory.
            ("queued.max.messages.kbytes", "32768"),
            ("enable.partition.eof", "false"),
            // A dead worker's partitions move after 10 s instead of Kafka's 45 s; librdkafka
            // heartbeats from its own thread, so a busy worker is not mistaken for a dead one.
            ("session.timeout.ms", "10000"),
        ]
        if config.staticMembership {
            props.append(("group.instance.id", "\(config.appid)-\(hostname)-\(slot)"))
        }
        props += config.sourceSecurity
        props += config.consumerProperties
        return props
    }

    public static func producer(_ config: StreamForgeConfig, slot: Int) -> [(key: String, value: String)] {
        var props: [(key: String, value: String)] = [
            ("bootstrap.servers", config.targetBootstrap),
            ("client.id", "streamforge-\(config.appid)-\(slot)-producer"),
            ("enable.idempotence", "true"),
            // The Java client's partitioner: keys land where other Kafka producers put them.
            ("partitioner", "murmur2_random"),
            ("linger.ms", "5"),
            // Never fail a record because a target outage outlasted a timer: the record waits,
            // and consumption waits behind it (at-least-once).
            ("message.timeout.ms", "0"),
            // Bound what waits in memory per worker (librdkafka's default is 1 GiB).
            ("queue.buffering.max.kbytes", "65536"),
        ]
        if let codec = config.compression { props.append(("compression.codec", codec)) }
        props += config.targetSecurity
        props += config.producerProperties
        return props
    }
}
