import CRdKafka

/// A librdkafka error: its numeric code, name and message.
public struct KafkaError: Error, Sendable, CustomStringConvertible, Equatable {
    public var code: Int32
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        code = err.rawValue
        let text = String(cString: rd_kafka_err2str(err))
        message = context.map { "\($0): \(text)" } ?? text
    }

    /// librdkafka's symbolic name, e.g. `_QUEUE_FULL` or `UNKNOWN_TOPIC_OR_PART`.
    public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code))) }

    public var description: String { "\(message) (\(name))" }

    public var isQueueFull: Bool { code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue }
    /// True for errors that librdkafka reports and recovers from by itself (broker down, timeouts).
    public var isTransportLevel: Bool {
        code == RD_KAFKA_RESP_ERR__TRANSPORT.rawValue || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue
            || code == RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue || code == RD_KAFKA_RESP_ERR__RESOLVE.rawValue
    }
    /// `auto.offset.reset=error` hit: the committed position is out of range.
    public var isAutoOffsetReset: Bool { code == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET.rawValue }
}

/// librdkafka's version string, e.g. "2.0.2".
public var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }
