import CRdKafka

/// The outcome of one produce, from librdkafka's delivery report.
public struct DeliveryReport {
    /// The id given to `produce`.
    public var id: UInt64
    /// nil when the broker acknowledged the record.
    public var error: KafkaError?
    public var partition: Int32
    public var offset: Int64
    /// The produced record's timestamp (ms since the epoch), or -1 when it has none.
    public var timestamp: Int64 = -1
}

/// A target topic handle, resolved once and reused for every record.
public final class ProducerTopic {
    let rkt: OpaquePointer
    public let name: String
    init(rkt: OpaquePointer, name: String) {
        self.rkt = rkt
        self.name = name
    }
    deinit { rd_kafka_topic_destroy(rkt) }
}

/// Where a produced record's headers come from.
public enum OutgoingHeaders {
    case none
    /// The consumed record's headers, copied inside librdkafka: order and duplicates kept.
    case from(ConsumedMessage)
    /// The consumed record's own header list, handed to the producer instead of copied: for
    /// its last copy, when nothing reads the record's headers afterwards (a failed produce
    /// gives them back to the record).
    case detached(ConsumedMessage)
    case list([(name: String, value: [UInt8]?)])
}

/// An (idempotent, by the caller's properties) producer. Delivery reports arrive as events
/// on its queue and are read by `pollDeliveries`: no Swift code runs in a librdkafka thread.
/// Not thread-safe: one thread makes every call.
public final class KafkaProducer {
    let rk: OpaquePointer
    private let queue: OpaquePointer
    private var topics: [String: ProducerTopic] = [:]
    /// Consumed records that queued copies are sent from (`sendFromBuffers(of:)`).
    let keeper = MessageKeeper()
    /// The consumer those records belong to: destroyed after this producer, which is destroyed
    /// before the records it sends from.
    private var lender: KafkaConsumer?
    /// Queued copies by the per-message opaque.
    private var sends = SendTable()

    public init(properties: [(key: String, value: String)]) throws(KafkaError) {
        let config = try ClientConfig(properties)
        installLogCallback(config.handle)
        rd_kafka_conf_set_events(config.handle, Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR))
        rk = try config.makeClient(RD_KAFKA_PRODUCER)
        queue = rd_kafka_queue_get_main(rk)
    }

    deinit {
        topics.removeAll()
        rd_kafka_queue_destroy(queue)
        rd_kafka_destroy(rk)
        // Nothing reads the kept records' buffers any more; the consumer goes after them.
        keeper.destroyAll()
        lender = nil
    }

    /// From now on, a record produced with `source:` and its own key and value is sent from
    /// the consumed record's buffers instead of copied: the record is kept alive until the
    /// delivery report of its last copy. Records of `consumer` only; call once.
    public func sendFromBuffers(of consumer: KafkaConsumer) {
        precondition(lender == nil, "sendFromBuffers called twice")
        lender = consumer
        consumer.keeper = keeper
    }

    /// Consumed records kept alive for copies in flight.
    public var keptRecords: Int { keeper.count }

    /// The handle of a target topic (created once per name).
    public func topic(_ name: String) -> ProducerTopic {
        if let topic = topics[name] { return topic }
        let topic = ProducerTopic(rkt: rd_kafka_topic_new(rk, name, nil), name: name)
        topics[name] = topic
        return topic
    }

    /// Queues one record. `partition` nil = the configured partitioner. A full local queue
    /// is reported as an error with `isQueueFull`: poll deliveries and try again.
    /// `source`: the consumed record whose own key and value buffers `key` and `value` are;
    /// with `sendFromBuffers(of:)`, they are sent without a copy.
    @inline(__always)
    public func produce(topic: ProducerTopic, partition: Int32?, key: UnsafeRawBufferPointer?,
                        value: UnsafeRawBufferPointer?, headers: OutgoingHeaders, timestamp: Int64,
                        id: UInt64, source: ConsumedMessage? = nil) -> KafkaError? {
        let kept = source?.kept ?? -1
        var hdrs: OpaquePointer?
        switch headers {
        case .none: hdrs = nil
        case .from(let message): hdrs = message.copiedHeaders()
        case .detached(let message): hdrs = message.detachedHeaders()
        case .list(let list):
            if !list.isEmpty {
                hdrs = rd_kafka_headers_new(list.count)
                for (name, value) in list {
                    if let value {
                        value.withUnsafeBytes { _ = rd_kafka_header_add(hdrs, name, -1, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), $0.count) }
                    } else {
                        _ = rd_kafka_header_add(hdrs, name, -1, nil, 0)
                    }
                }
            }
        }
        let send = sends.open(id: id, kept: kept)
        if kept >= 0 { keeper.retain(kept) }
        let err = sf_produce(rk, topic.rkt, partition ?? RD_KAFKA_PARTITION_UA,
                             key?.baseAddress ?? (key != nil ? UnsafeRawPointer(bitPattern: 1) : nil), key?.count ?? 0,
                             value?.baseAddress ?? (value != nil ? UnsafeRawPointer(bitPattern: 1) : nil), value?.count ?? 0,
                             hdrs, timestamp, UnsafeMutableRawPointer(bitPattern: UInt(send) + 1), kept >= 0 ? 0 : 1)
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { return nil }
        _ = sends.close(send)
        if kept >= 0 { keeper.release(kept) }
        if let hdrs {
            if case .detached(let message) = headers { message.reattach(hdrs) } else { rd_kafka_headers_destroy(hdrs) }
        }
        return KafkaError(err)
    }

    /// Reads delivery reports for up to `timeoutMs` (0 = only what is ready) and returns
    /// how many were handled. A fatal producer error (idempotence broken) is thrown.
    @discardableResult
    public func pollDeliveries(timeoutMs: Int32, _ onReport: (DeliveryReport) -> Void) throws(KafkaError) -> Int {
        var handled = 0
        var wait = timeoutMs
        while let event = rd_kafka_queue_poll(queue, wait) {
            defer { rd_kafka_event_destroy(event) }
            wait = 0
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_DR:
                while let msg = rd_kafka_event_message_next(event) {
                    let (id, kept) = sends.close(Int32(Int(bitPattern: msg.pointee._private) - 1))
                    // The copy is delivered or failed for good: librdkafka is done with the
                    // consumed record's buffers (the report's own key and value point into them).
                    let error = msg.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(msg.pointee.err)
                    var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
                    let timestamp = rd_kafka_message_timestamp(msg, &type)
                    let report = DeliveryReport(id: id, error: error, partition: msg.pointee.partition, offset: msg.pointee.offset,
                                                timestamp: timestamp)
                    if kept >= 0 { keeper.release(kept) }
                    onReport(report)
                    handled += 1
                }
            case RD_KAFKA_EVENT_ERROR:
                let err = rd_kafka_event_error(event)
                let reason = String(cString: rd_kafka_event_error_string(event))
                if rd_kafka_event_error_is_fatal(event) != 0 {
                    var buf = [CChar](repeating: 0, count: 512)
                    let fatal = rd_kafka_fatal_error(rk, &buf, buf.count)
                    throw KafkaError(code: fatal.rawValue, message: "fatal producer error: \(text(of: buf))")
                }
                rdkafkaLogger.warning("producer error", metadata: ["error": "\(reason)", "code": "\(KafkaError(err).name)"])
            default:
                break
            }
        }
        return handled
    }

    /// Partition count of a topic from the cluster's metadata.
    public func partitionCount(of topic: ProducerTopic, timeoutMs: Int32) throws(KafkaError) -> Int32 {
        var md: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 0, topic.rkt, &md, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { throw KafkaError(err, context: "unable to read metadata of \(topic.name)") }
        defer { rd_kafka_metadata_destroy(md) }
        guard md.pointee.topic_cnt > 0 else { throw KafkaError(code: -1, message: "no metadata for \(topic.name)") }
        let t = md.pointee.topics[0]
        if t.err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(t.err, context: "topic \(topic.name)") }
        return t.partition_cnt
    }
}

/// Copies queued in librdkafka, by slot: the per-message opaque is the slot + 1 (an integer,
/// never a retained object). A slot holds the caller's id and the `MessageKeeper` slot of the
/// consumed record the copy is sent from (-1 for a copy with its own bytes). Slots are reused.
struct SendTable {
    private var ids: [UInt64] = []
    private var kept: [Int32] = []
    private var free: [Int32] = []

    @inline(__always)
    mutating func open(id: UInt64, kept record: Int32) -> Int32 {
        if let slot = free.popLast() {
            ids[Int(slot)] = id
            kept[Int(slot)] = record
            return slot
        }
        ids.append(id)
        kept.append(record)
        return Int32(ids.count - 1)
    }

    @inline(__always)
    mutating func close(_ slot: Int32) -> (id: UInt64, kept: Int32) {
        free.append(slot)
        return (ids[Int(slot)], kept[Int(slot)])
    }
}
