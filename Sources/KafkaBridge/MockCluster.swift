import CRdKafka

/// librdkafka's mock cluster: real Kafka protocol over loopback, for tests and the demo.
public final class MockCluster {
    private let host: OpaquePointer
    private let cluster: OpaquePointer
    public let bootstrap: String
    public let brokerCount: Int32

    public init(brokers: Int32) throws(KafkaError) {
        let config = try ClientConfig([("log_level", "3")])
        installLogCallback(config.handle)
        host = try config.makeClient(RD_KAFKA_PRODUCER)
        guard let cluster = rd_kafka_mock_cluster_new(host, brokers) else {
            rd_kafka_destroy(host)
            throw KafkaError(code: -1, message: "unable to start the mock cluster")
        }
        self.cluster = cluster
        bootstrap = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        brokerCount = brokers
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }

    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, min(replicationFactor, brokerCount))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "unable to create topic \(name)") }
    }

    /// Broker ids start at 1.
    public func setBrokerDown(_ broker: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_down(cluster, broker)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "unable to take broker \(broker) down") }
    }

    public func setBrokerUp(_ broker: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_up(cluster, broker)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "unable to bring broker \(broker) up") }
    }

    /// Adds round-trip latency to every response of a broker.
    public func setBrokerLatency(_ broker: Int32, milliseconds: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_rtt(cluster, broker, milliseconds)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "unable to set latency") }
    }

    /// Makes the next `count` requests of an API (by Kafka ApiKey, e.g. 0 = Produce) fail
    /// with a Kafka error code.
    public func pushRequestErrors(apiKey: Int16, count: Int, errorCode: Int32) {
        var errors = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(rawValue: errorCode), count: count)
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, count, &errors)
    }

    public func clearRequestErrors(apiKey: Int16) {
        rd_kafka_mock_clear_request_errors(cluster, apiKey)
    }

    /// Makes a topic report an error (e.g. 3 = UNKNOWN_TOPIC_OR_PART) in metadata; 0 clears it.
    public func setTopicError(_ topic: String, errorCode: Int32) {
        rd_kafka_mock_topic_set_error(cluster, topic, rd_kafka_resp_err_t(rawValue: errorCode))
    }
}
