#if canImport(Glibc)
import Glibc
#endif
import CRdKafka

/// What a consumer's group membership did; delivered inline, from within `poll`, on the
/// polling thread. The handler must finish with the partitions before returning: for a
/// revoke, that means waiting for in-flight records and committing their offsets; for a
/// lost assignment, committing nothing.
public protocol RebalanceHandler: AnyObject {
    func partitionsAssigned(_ partitions: [TopicPartition])
    func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool)
}

/// One consumed record, borrowed from librdkafka: valid only inside the `poll` body.
public struct ConsumedMessage {
    let message: UnsafeMutablePointer<rd_kafka_message_t>
    let topicCache: TopicNameCache
    /// The record's slot in the `MessageKeeper` of a producer that sends from the consumer's
    /// buffers, or -1 (copies are produced with their own bytes).
    let kept: Int32

    /// Identifies the source topic for caches: stable while the consumer lives.
    public var topicID: Int { Int(bitPattern: UnsafeRawPointer(message.pointee.rkt)) }
    public var topic: String { topicCache.name(of: message.pointee.rkt) }
    public var partition: Int32 { message.pointee.partition }
    public var offset: Int64 { message.pointee.offset }
    /// nil for a null key.
    public var key: UnsafeRawBufferPointer? {
        guard let p = message.pointee.key else { return nil }
        return UnsafeRawBufferPointer(start: p, count: message.pointee.key_len)
    }
    /// nil for a null value (a tombstone).
    public var value: UnsafeRawBufferPointer? {
        guard let p = message.pointee.payload else { return nil }
        return UnsafeRawBufferPointer(start: p, count: message.pointee.len)
    }
    /// Milliseconds since the epoch, or -1 when the record carries none.
    public var timestamp: Int64 {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        return rd_kafka_message_timestamp(message, &type)
    }
    /// The headers in order, duplicates included. Allocates: the mirror path copies the
    /// header list inside librdkafka instead.
    public var headers: [(name: String, value: UnsafeRawBufferPointer?)] {
        var hdrs: OpaquePointer?
        guard rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs else { return [] }
        var result: [(name: String, value: UnsafeRawBufferPointer?)] = []
        var idx = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(hdrs, idx, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            result.append((String(cString: name!), value.map { UnsafeRawBufferPointer(start: $0, count: size) }))
            idx += 1
        }
        return result
    }

    /// A copy of the header list for producing (nil when there are none).
    func copiedHeaders() -> OpaquePointer? {
        var hdrs: OpaquePointer?
        guard rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs else { return nil }
        return rd_kafka_headers_copy(hdrs)
    }

    /// The header list itself, taken from the message for producing (nil when there are
    /// none): the message has no headers afterwards, until `reattach` gives them back.
    func detachedHeaders() -> OpaquePointer? {
        var hdrs: OpaquePointer?
        guard rd_kafka_message_detach_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return hdrs
    }

    /// Gives back headers taken by `detachedHeaders` (a produce that failed).
    func reattach(_ headers: OpaquePointer) {
        rd_kafka_message_set_headers(message, headers)
    }
}

/// Topic names by librdkafka topic handle, so that a record's topic costs no allocation.
final class TopicNameCache {
    private var names: [UnsafeRawPointer: String] = [:]
    func name(of rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        let key = UnsafeRawPointer(rkt)
        if let name = names[key] { return name }
        let name = String(cString: rd_kafka_topic_name(rkt))
        names[key] = name
        return name
    }
}

public enum PollResult {
    case message
    case timeout
    /// A consumer-level event: broker down, partition EOF, offset reset error...
    case error(KafkaError, TopicPartition?)
}

/// librdkafka's "no offset" (`RD_KAFKA_OFFSET_INVALID`): a partition named in a list where the
/// call takes no offset (pause, resume) or fills it in (committed, position).
private let noOffset = Int64(RD_KAFKA_OFFSET_INVALID)

/// A high-level (group) consumer. Not thread-safe: one thread polls it and makes every call.
public final class KafkaConsumer {
    let rk: OpaquePointer
    /// The consumer queue (records, errors, rebalances), for batch consumption.
    private let queue: OpaquePointer
    /// The records of the last `fetchBatch`, owned until `drainBatch` destroys them.
    private let batch: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    private var batchCount = 0
    /// Records one `fetchBatch` takes at most.
    public static let batchCapacity = 4096
    private let topicCache = TopicNameCache()
    /// High watermarks asked of the brokers by `lag(queryBroker: true)`.
    private var queriedHigh: [TopicPartition: Int64] = [:]
    private let rebalanceBox: RebalanceBox
    /// Set by `KafkaProducer.sendFromBuffers(of:)`: records handed out are kept there, alive
    /// while copies are sent from their buffers.
    var keeper: MessageKeeper?

    /// `properties` are librdkafka properties (`group.id`, `bootstrap.servers`, ...).
    public init(properties: [(key: String, value: String)], rebalanceHandler: any RebalanceHandler) throws(KafkaError) {
        let config = try ClientConfig(properties)
        installLogCallback(config.handle)
        let box = RebalanceBox(handler: rebalanceHandler)
        rd_kafka_conf_set_opaque(config.handle, Unmanaged.passUnretained(box).toOpaque())
        rd_kafka_conf_set_rebalance_cb(config.handle, rebalanceCallback)
        rk = try config.makeClient(RD_KAFKA_CONSUMER)
        rebalanceBox = box
        rd_kafka_poll_set_consumer(rk)
        queue = rd_kafka_queue_get_consumer(rk)
        batch = .allocate(capacity: Self.batchCapacity)
        box.consumer = rk
    }

    deinit {
        for i in 0..<batchCount { if let msg = batch[i] { rd_kafka_message_destroy(msg) } }
        batch.deallocate()
        rd_kafka_queue_destroy(queue)
        rd_kafka_destroy(rk)
    }

    /// Subscribes to topics; a name that starts with `^` is a regex.
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(rk, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "unable to subscribe") }
    }

    /// Polls for one record (`fetchBatch` takes many at once). Rebalance callbacks run inside
    /// this call.
    @inline(__always)
    public func poll(timeoutMs: Int32, _ body: (ConsumedMessage) -> Void) -> PollResult {
        guard let msg = rd_kafka_consumer_poll(rk, timeoutMs) else { return .timeout }
        if msg.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let (error, tp) = consumerError(msg)
            rd_kafka_message_destroy(msg)
            return .error(error, tp)
        }
        handOver(msg, body)
        return .message
    }

    /// Waits up to `timeoutMs` for records and takes up to `batchCapacity` of them in one call
    /// (one queue operation for the lot, instead of one per record); rebalance callbacks run
    /// inside. Returns how many records and errors `drainBatch` will hand over. Records of a
    /// partition revoked during the call are dropped here: the partition's next owner reads
    /// them from the committed offset.
    public func fetchBatch(timeoutMs: Int32) -> Int {
        precondition(batchCount == 0, "fetchBatch before drainBatch")
        let rebalances = rebalanceBox.rebalances
        let n = rd_kafka_consume_batch_queue(queue, timeoutMs, batch, Self.batchCapacity)
        guard n > 0 else { return 0 }
        batchCount = n
        if rebalanceBox.rebalances != rebalances {
            let assigned = Set(assignment())
            for i in 0..<n {
                guard let msg = batch[i], msg.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR, let rkt = msg.pointee.rkt else { continue }
                if !assigned.contains(TopicPartition(topic: topicCache.name(of: rkt), partition: msg.pointee.partition)) {
                    rd_kafka_message_destroy(msg)
                    batch[i] = nil
                }
            }
        }
        return n
    }

    /// Hands over the records of the last `fetchBatch` in order, and the consumer-level
    /// errors among them, then destroys them: a record is valid only inside `body`.
    @inline(__always)
    public func drainBatch(_ body: (ConsumedMessage) -> Void, errors: (KafkaError, TopicPartition?) -> Void) {
        let n = batchCount
        batchCount = 0
        for i in 0..<n {
            guard let msg = batch[i] else { continue }
            if msg.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let (error, tp) = consumerError(msg)
                rd_kafka_message_destroy(msg)
                errors(error, tp)
            } else {
                handOver(msg, body)
            }
        }
    }

    /// Calls `body` with a consumed record, then lets go of it: destroyed at once, or, when a
    /// producer sends from the consumer's buffers, when its last queued copy is delivered.
    @inline(__always)
    private func handOver(_ msg: UnsafeMutablePointer<rd_kafka_message_t>, _ body: (ConsumedMessage) -> Void) {
        if let keeper {
            let slot = keeper.enter(msg)
            body(ConsumedMessage(message: msg, topicCache: topicCache, kept: slot))
            keeper.release(slot)
        } else {
            body(ConsumedMessage(message: msg, topicCache: topicCache, kept: -1))
            rd_kafka_message_destroy(msg)
        }
    }

    private func consumerError(_ msg: UnsafeMutablePointer<rd_kafka_message_t>) -> (KafkaError, TopicPartition?) {
        var tp: TopicPartition?
        if let rkt = msg.pointee.rkt { tp = TopicPartition(topic: topicCache.name(of: rkt), partition: msg.pointee.partition) }
        var text = KafkaError(msg.pointee.err).message
        if let p = msg.pointee.payload, msg.pointee.len > 0 {
            text = String(decoding: UnsafeRawBufferPointer(start: p, count: msg.pointee.len), as: UTF8.self)
        }
        return (KafkaError(code: msg.pointee.err.rawValue, message: text), tp)
    }

    /// Stores offsets (the next offset to read) for the next commit.
    public func storeOffsets(_ offsets: [TopicPartitionOffset]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = makePartitionList(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_offsets_store(rk, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "unable to store offsets") }
    }

    /// Commits the given offsets (or, with nil, every stored offset).
    public func commit(_ offsets: [TopicPartitionOffset]?, async: Bool) throws(KafkaError) {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        if let offsets {
            guard !offsets.isEmpty else { return }
            list = makePartitionList(offsets)
        }
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        let err = rd_kafka_commit(rk, list, async ? 1 : 0)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(err, context: "unable to commit offsets")
        }
    }

    /// Committed offsets of these partitions, as the group coordinator has them.
    public func committed(_ partitions: [TopicPartition], timeoutMs: Int32) throws(KafkaError) -> [TopicPartitionOffset] {
        let list = makePartitionList(partitions.map { TopicPartitionOffset($0, offset: noOffset) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_committed(rk, list, timeoutMs)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "unable to read committed offsets") }
        return readPartitionList(list)
    }

    public func pause(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = makePartitionList(partitions.map { TopicPartitionOffset($0, offset: noOffset) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_pause_partitions(rk, list)
    }

    public func resume(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = makePartitionList(partitions.map { TopicPartitionOffset($0, offset: noOffset) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_resume_partitions(rk, list)
    }

    public func assignment() -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(rk, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return readPartitionList(list).map(\.topicPartition)
    }

    /// Drops the subscription: the assignment is revoked (the handler commits) and the member
    /// leaves the group, also a static member (librdkafka skips LeaveGroup for static members
    /// only on close).
    public func unsubscribe() {
        _ = rd_kafka_unsubscribe(rk)
    }

    /// Leaves the group: revokes the assignment (the handler commits) and closes.
    public func close() {
        _ = rd_kafka_consumer_close(rk)
    }

    /// The consumer's lag per partition from librdkafka's cached watermarks: the high
    /// watermark minus the first record not yet delivered (`firstUndelivered`, from the
    /// caller's bookkeeping), else minus the consumed position. Records read but still waiting
    /// for the target count as lag. Only partitions whose numbers are known.
    ///
    /// The cached high watermark comes with fetch responses, so it stands still for a
    /// partition that is not fetched (paused, or prefetch full while the target is down):
    /// `queryBroker` asks the partition's leader instead, one round trip per partition, all of
    /// them within `budgetMs` (the caller's loop must not stall: the rest keep the cached value).
    public func lag(firstUndelivered: [TopicPartition: Int64] = [:], queryBroker: Bool = false,
                    budgetMs: Int64 = 500) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        let deadline = monotonicMilliseconds() + budgetMs
        for tp in assignment() {
            var low: Int64 = 0, high: Int64 = 0
            let left = deadline - monotonicMilliseconds()
            if queryBroker, left > 0,
               rd_kafka_query_watermark_offsets(rk, tp.topic, tp.partition, &low, &high, Int32(left)) == RD_KAFKA_RESP_ERR_NO_ERROR {
                queriedHigh[tp] = high
            }
            if rd_kafka_get_watermark_offsets(rk, tp.topic, tp.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR { high = -1 }
            // High watermarks only grow: the newer of the fetched and the queried one.
            high = max(high, queriedHigh[tp] ?? -1)
            guard high >= 0 else { continue }
            let list = makePartitionList([TopicPartitionOffset(tp, offset: noOffset)])
            defer { rd_kafka_topic_partition_list_destroy(list) }
            guard rd_kafka_position(rk, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            var pos = sf_partition_list_at(list, 0)!.pointee.offset
            if let first = firstUndelivered[tp], pos < 0 || first < pos { pos = first }
            if pos >= 0 { result[tp] = max(0, high - pos) }
        }
        return result
    }
}

/// Holds the handler for the C rebalance callback (the conf opaque points at it).
final class RebalanceBox {
    weak var handler: (any RebalanceHandler)?
    var consumer: OpaquePointer?
    /// Rebalance callbacks served so far.
    var rebalances = 0
    init(handler: any RebalanceHandler) { self.handler = handler }
}

private let rebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t,
                                               UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
                                               UnsafeMutableRawPointer?) -> Void = { rk, err, partitions, opaque in
    guard let rk, let partitions, let opaque else { return }
    let box = Unmanaged<RebalanceBox>.fromOpaque(opaque).takeUnretainedValue()
    box.rebalances += 1
    let parts = readPartitionList(partitions).map(\.topicPartition)
    let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if cooperative {
            if let error = rd_kafka_incremental_assign(rk, partitions) { rd_kafka_error_destroy(error) }
        } else {
            _ = rd_kafka_assign(rk, partitions)
        }
        box.handler?.partitionsAssigned(parts)
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        let lost = rd_kafka_assignment_lost(rk) != 0
        box.handler?.partitionsRevoked(parts, lost: lost)
        if cooperative {
            if let error = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(error) }
        } else {
            _ = rd_kafka_assign(rk, nil)
        }
    default:
        _ = rd_kafka_assign(rk, nil)
        box.handler?.partitionsRevoked(parts, lost: true)
    }
}

private func monotonicMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
