import StreamForgeLanguage

/// librdkafka properties for a worker's clients: StreamForge's defaults first, then the
/// security block, then the user's own properties, which win. Pure: librdkafka itself is seen
/// only by KafkaBridge, whose `librdkafkaPropertyProblems` the callers pass in as `check`.
public enum ClientProperties {
    /// What librdkafka refuses in a list of properties: (key, reason) per problem.
    public typealias PropertyCheck = ([(key: String, value: String)]) -> [(key: String, reason: String)]

    /// What librdkafka would refuse in the consumer's and the producer's properties, as
    /// diagnostics a person can act on; empty when both clients can be created.
    public static func problems(_ config: StreamForgeConfig, check librdkafkaPropertyProblems: PropertyCheck) -> [String] {
        func located(_ client: String, _ problem: (key: String, reason: String)) -> String {
            guard let origin = config.propertyOrigins[StreamForgeConfig.propertyKey(client, problem.key)] else {
                // A configuration built in memory, or one of StreamForge's own defaults.
                let user = client == "consumer" ? config.consumerProperties : config.producerProperties
                let security = client == "consumer" ? config.sourceSecurity : config.targetSecurity
                if user.contains(where: { $0.key == problem.key }) {
                    return "\(config.sourcePath): error: \(client)_properties[\"\(problem.key)\"]: \(problem.reason)"
                }
                let from = security.contains { $0.key == problem.key } ? "security settings" : "a StreamForge default"
                return "\(config.sourcePath): error: \(client) property '\(problem.key)' (\(from)): \(problem.reason)"
            }
            if origin.keyPath.hasPrefix("consumer_properties") || origin.keyPath.hasPrefix("producer_properties") {
                return "\(origin.location): error: \(origin.keyPath): \(problem.reason)"
            }
            return "\(origin.location): error: \(origin.keyPath): librdkafka property '\(problem.key)': \(problem.reason)"
        }
        let consumer = librdkafkaPropertyProblems(Self.consumer(config, slot: 0, hostname: "check")).map { located("consumer", $0) }
        let producer = librdkafkaPropertyProblems(Self.producer(config, slot: 0)).map { located("producer", $0) }
        // A key both clients refuse (set by a shared block) is reported once.
        var seen = Set<String>()
        return (consumer + producer).filter { seen.insert($0).inserted }
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
            // Prefetch is per worker: N workers must fit the host's memory. For records of a
            // few hundred bytes the byte bound governs, not librdkafka's 100 000 records, which
            // stopped fetching well below it (1.6x the throughput of 200-byte records,
            // measured). The record bound stays, at 200 000: librdkafka's own overhead per
            // queued record (a few hundred bytes) is not in the byte bound.
            ("queued.max.messages.kbytes", "32768"),
            ("queued.min.messages", "200000"),
            // A fetch brings up to 2 MiB per partition (librdkafka: 1 MiB), so larger records
            // need fewer round trips; fetch.max.bytes (librdkafka: 50 MiB) bounds one response,
            // and with it how far a fetch overshoots the prefetch bound above and how much a
            // record sent from its fetch buffer keeps in memory. Measured against 4/16 MiB and
            // 1/4 MiB on 1 KB records: 1.6x the rate at 0.75x the peak memory of 4/16 MiB.
            ("max.partition.fetch.bytes", "2097152"),
            ("fetch.max.bytes", "8388608"),
            ("enable.partition.eof", "false"),
            // A dead worker's partitions move after 10 s instead of Kafka's 45 s; librdkafka
            // heartbeats from its own thread, so a busy worker is not mistaken for a dead one.
            ("session.timeout.ms", "10000"),
            // New topics matching a `^regex` input and partitions added to a consumed topic are
            // picked up within this (librdkafka's default is 5 minutes).
            ("topic.metadata.refresh.interval.ms", "30000"),
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
            // One Produce request per broker connection at a time. With more, librdkafka's
            // idempotent producer takes a later request's success as proof that an earlier,
            // failed one was written too, and reports the earlier records delivered
            // ("implicit ack"). Only a broker that checks producer sequences makes that true:
            // librdkafka's mock cluster does not (nor need every Kafka-compatible broker), and
            // records were lost there. docs/reliability.md has the evidence and the cost.
            ("max.in.flight.requests.per.connection", "1"),
            // The Java client's partitioner: keys land where other Kafka producers put them.
            ("partitioner", "murmur2_random"),
            ("linger.ms", "5"),
            // A request carries every record waiting for a partition, up to the broker's default
            // message.max.bytes (librdkafka: 10 000 records, 1 MB): with one request in flight
            // per connection, the request count rather than the record count sets the cost.
            ("batch.num.messages", "100000"),
            ("batch.size", "1000000"),
            // The byte bound below governs what waits, not librdkafka's 100 000 records, which
            // blocks the loop on a full queue long before it for small records.
            ("queue.buffering.max.messages", "1000000"),
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

extension ConfigCheck {
    /// `run`, then the librdkafka properties of a structurally valid file: what
    /// `check-config` prints and its exit code, the same from `streamforged` and `streamforgectl`.
    public static func runWithClientProperties(path: String, environment: [String: String],
                                               check: ClientProperties.PropertyCheck) -> (output: String, exitCode: Int32) {
        let result = run(path: path, environment: environment)
        guard result.exitCode == 0, let config = try? ConfigLoader.load(path: path, environment: environment) else { return result }
        let problems = ClientProperties.problems(config, check: check)
        guard !problems.isEmpty else { return result }
        let count = problems.count
        let warnings = result.output.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("config OK:") && !$0.isEmpty }
        return ((warnings.map(String.init) + problems).joined(separator: "\n") + "\nunable to load config \(path): \(count) error\(count == 1 ? "" : "s")\n", ExitCode.config.rawValue)
    }
}
