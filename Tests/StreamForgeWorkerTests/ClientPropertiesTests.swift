import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import StreamForgeWorker
import Testing

@Suite struct ClientPropertiesTests {
    let config = StreamForgeConfig(
        appid: "orders", bootstrap: "src:9092", targetBroker: "dst:9092", input: .topics(["o"]), output: "o2",
        offset: .error, consumerProperties: [("fetch.min.bytes", "1"), ("session.timeout.ms", "6000")],
        producerProperties: [("linger.ms", "20")],
        sourceSecurity: [("security.protocol", "ssl")], targetSecurity: [("security.protocol", "sasl_ssl")])

    func value(_ props: [(key: String, value: String)], _ key: String) -> String? {
        props.last { $0.key == key }?.value
    }

    @Test func consumerTakesDefaultsThenSecurityThenTheUsersPropertiesWhichWin() {
        let props = ClientProperties.consumer(config, slot: 2, hostname: "h1")
        #expect(value(props, "bootstrap.servers") == "src:9092")
        #expect(value(props, "group.id") == "orders")
        #expect(value(props, "group.instance.id") == "orders-h1-2")
        #expect(value(props, "enable.auto.offset.store") == "false")
        #expect(value(props, "auto.offset.reset") == "error")
        #expect(value(props, "security.protocol") == "ssl")
        #expect(value(props, "session.timeout.ms") == "6000", "the user's value wins over the default")
        #expect(props.firstIndex { $0.key == "security.protocol" }! < props.firstIndex { $0.key == "fetch.min.bytes" }!)
    }

    @Test func producerIsIdempotentWithJavaPartitioningAndTargetSecurity() {
        let props = ClientProperties.producer(config, slot: 0)
        #expect(value(props, "bootstrap.servers") == "dst:9092")
        #expect(value(props, "enable.idempotence") == "true")
        #expect(value(props, "partitioner") == "murmur2_random")
        #expect(value(props, "message.timeout.ms") == "0")
        #expect(value(props, "security.protocol") == "sasl_ssl")
        #expect(value(props, "linger.ms") == "20")
    }

    @Test func staticMembershipCanBeTurnedOff() {
        var dynamic = config
        dynamic.staticMembership = false
        #expect(value(ClientProperties.consumer(dynamic, slot: 0, hostname: "h"), "group.instance.id") == nil)
    }
}

@Suite struct ClientPropertyProblemsTests {
    @Test func propertiesLibrdkafkaWouldRefuseAreReportedBeforeAnyWorkerStarts() {
        let bad = StreamForgeConfig(sourcePath: "c.json", appid: "a", bootstrap: "b:9092", input: .topics(["t"]), output: "u",
                                    consumerProperties: [("fetch.min.bytez", "1"), ("session.timeout.ms", "abc")],
                                    producerProperties: [("linger.ms", "-5")])
        let problems = ClientProperties.problems(bad, check: librdkafkaPropertyProblems)
        #expect(problems.count == 3, "\(problems)")
        #expect(problems[0].hasPrefix("c.json: error: consumer_properties[\"fetch.min.bytez\"]:"), "\(problems)")
        #expect(problems.contains { $0.contains("producer_properties") && $0.contains("linger.ms") })
        let good = StreamForgeConfig(appid: "a", bootstrap: "b:9092", input: .topics(["t"]), output: "u",
                                     consumerProperties: [("fetch.min.bytes", "1")])
        #expect(ClientProperties.problems(good, check: librdkafkaPropertyProblems).isEmpty)
    }

    /// A property from a file is reported at the key that set it, however it was set.
    @Test func problemsFromAFileAreLocatedAtTheirKey() throws {
        let yaml = """
            appid: a
            bootstrap: b:9092
            input: t
            output: u
            consumer_properties:
              fetch.min.bytez: "1"
            producer_properties:
              linger.ms: "-5"
            """
        let analysis = ConfigLoader.analyze(text: yaml, path: "c.yaml", environment: [:])
        let config = try #require(analysis.config, "\(analysis.diagnostics.rendered)")
        let problems = ClientProperties.problems(config, check: librdkafkaPropertyProblems)
        #expect(problems.contains { $0.hasPrefix("c.yaml:6:3: error: consumer_properties[\"fetch.min.bytez\"]:") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("c.yaml:8:3: error: producer_properties[\"linger.ms\"]:") }, "\(problems)")
    }

    /// A property set by a security block is located at the block and named by it; when both
    /// clients refuse it (a shared `security`), it is reported once.
    @Test func problemsFromASecurityBlockAreLocatedAtTheBlockAndReportedOnce() throws {
        let yaml = """
            appid: a
            bootstrap: b:9092
            input: t
            output: u
            security:
              protocol: SSL
            """
        var config = try #require(ConfigLoader.analyze(text: yaml, path: "c.yaml", environment: [:]).config)
        let origin = try #require(config.propertyOrigins[StreamForgeConfig.propertyKey("consumer", "security.protocol")])
        #expect(origin.keyPath == "security")
        #expect(origin.location.description == "c.yaml:6:3")
        #expect(config.propertyOrigins[StreamForgeConfig.propertyKey("producer", "security.protocol")] == origin)
        // A value librdkafka refuses, set through the same block for both clients.
        config.sourceSecurity.append(("ssl.endpoint.identification.algorithm", "bogus"))
        config.targetSecurity.append(("ssl.endpoint.identification.algorithm", "bogus"))
        for client in ["consumer", "producer"] {
            config.propertyOrigins[StreamForgeConfig.propertyKey(client, "ssl.endpoint.identification.algorithm")] = origin
        }
        let problems = ClientProperties.problems(config, check: librdkafkaPropertyProblems)
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix("c.yaml:6:3: error: security: librdkafka property 'ssl.endpoint.identification.algorithm':") == true,
                "\(problems)")
    }
}
