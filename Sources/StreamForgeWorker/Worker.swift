#if canImport(Glibc)
import Glibc
#endif
import KafkaBridge
import Logging
import StreamForgeCore

/// One consumer-group member: consume → route → produce → commit, at-least-once.
///
/// Everything runs on the calling thread: the consumer's rebalance callback and the
/// producer's delivery reports are served from this thread's polls, so the offset tracker
/// needs no lock.
public final class Worker: RebalanceHandler {
    let config: StreamForgeConfig
    let options: WorkerOptions
    let control: WorkerControl
    let link: SupervisorLink?
    let logger: Logger
    let router: Router

    var consumer: KafkaConsumer!
    let producer: KafkaProducer
    var tracker = OffsetTracker()
    /// Tracker ids by (topic handle, partition), rebuilt after each rebalance.
    var trackerCache: [PartitionKey: UInt32] = [:]

    var counters = WorkerCounters()
    /// Acknowledged records per destination index (the DLQ at `Router.dlqIndex`); folded into
    /// `counters.produced` by name only when a snapshot is sent, not per record.
    var producedByIndex = [UInt64](repeating: 0, count: OffsetTracker.maxDestinations)
    /// Records each destination did not take (filter, content routing), likewise.
    var filteredByIndex = [UInt64](repeating: 0, count: OffsetTracker.maxDestinations)
    var state: WorkerRunState = .starting
    var readySent = false
    var failedPartitions: [FailedPartition] = []
    var pausedByRequest = false
    var fatal: String?

    struct PartitionKey: Hashable {
        var topicID: Int
        var partition: Int32
    }

    /// Partitions stopped by `error_policy: fail`, by (topic handle, partition).
    var blocked: [PartitionKey: TopicPartition] = [:]
    /// Set when a drain was requested while the target refused more records: the record being
    /// produced is abandoned (not committed, read again after the restart).
    var abandoned = false
    /// Reused for every record on the language path.
    var results: [DestinationResult] = []
    let dlqTopic: ProducerTopic?
    var skipLog = RateLimitedLog(intervalMs: 10_000)
    /// Monotonic ms, read once per loop turn: when the records of that turn were consumed.
    var clock = monotonicMs()
    var nextSnapshot: Int64 = 0
    var nextCommit: Int64 = 0
    var commitsSinceRefresh = 0
    /// When the target last acknowledged a record (monotonic ms; the start before the first).
    var lastAckAt = monotonicMs()
    var everAcked = false
    var nextWatermarkQuery: Int64 = 0
    /// The last offset sent in a commit, per partition (for `committed` in snapshots).
    var committedOffsets: [TopicPartition: Int64] = [:]
    /// Since when deliveries are stalled (records wait, none acknowledged), when they are.
    var stalledSince: Int64?

    public init(config: StreamForgeConfig, options: WorkerOptions, control: WorkerControl,
                link: SupervisorLink?, logger: Logger) throws(WorkerStartError) {
        self.config = config
        self.options = options
        self.control = control
        self.link = link
        var logger = logger
        logger[metadataKey: "sf.worker.slot"] = "\(options.slot)"
        self.logger = logger
        do {
            producer = try KafkaProducer(properties: ClientProperties.producer(config, slot: options.slot))
        } catch {
            throw .kafka(error)
        }
        do {
            router = try Router(config: config, producer: producer)
        } catch {
            throw .language(error)
        }
        dlqTopic = config.dlq.enabled ? producer.topic(config.dlq.topic ?? "streamforge-dlq") : nil
        do {
            consumer = try KafkaConsumer(properties: ClientProperties.consumer(config, slot: options.slot,
                                                                               hostname: options.hostname),
                                         rebalanceHandler: self)
        } catch {
            throw .kafka(error)
        }
    }

    /// Runs until drained; returns the process exit code.
    public func run() -> Int32 {
        link?.send(.hello(slot: options.slot, pid: getpid()))
        do {
            try consumer.subscribe(config.input.subscription)
        } catch {
            logger.error("unable to subscribe", metadata: ["error": "\(error)"])
            return WorkerExit.config
        }
        logger.info("worker started", metadata: ["input": "\(config.input.subscription.joined(separator: ","))",
                                                 "destinations": "\(router.destinationCount)",
                                                 "path": "\(router.pipeline == nil ? "mirror" : "language")"])
        nextCommit = monotonicMs() + commitInterval
        nextSnapshot = monotonicMs() + Self.snapshotInterval
        var sincePoll = 0

        while fatal == nil && !control.drainRequested {
            applyPauseRequest()
            let result = consumer.poll(timeoutMs: 100) { message in
                self.handle(message)
            }
            clock = monotonicMs()
            switch result {
            case .message:
                sincePoll += 1
                if sincePoll >= 64 {
                    sincePoll = 0
                    pollDeliveries(timeoutMs: 0)
                }
            case .timeout:
                pollDeliveries(timeoutMs: 0)
            case .error(let error, let partition):
                consumerError(error, partition)
            }
            housekeeping(now: clock)
            if let limit = options.exitAfterRecords, tracker.completed >= limit {
                logger.info("record limit reached", metadata: ["records": "\(limit)"])
                break
            }
        }
        return drain()
    }

    var commitInterval: Int64 { Int64(max(config.commitStrategy.commitIntervalMs, 10)) }
    static var snapshotInterval: Int64 { WorkerOptions.snapshotIntervalMs }

    /// The periodic work of the loop, also done while the loop waits (a full producer queue, a
    /// drain): the commit of what was delivered, and the snapshot the supervisor expects every
    /// second. A worker that stops reporting is taken for hung and killed.
    func housekeeping(now: Int64) {
        if now >= nextCommit {
            pollDeliveries(timeoutMs: 0)
            commitsSinceRefresh += 1
            // Now and then every partition again: an asynchronous commit that failed unseen
            // (during a rebalance) is not left behind.
            if commitsSinceRefresh >= 10 {
                commitsSinceRefresh = 0
                tracker.markAllDirty()
            }
            commit(async: config.commitStrategy.commitMode == .async)
            nextCommit = now + commitInterval
        }
        sendSnapshotIfDue(now: now)
    }

    /// The snapshot the supervisor expects every second, from any loop that waits.
    func sendSnapshotIfDue(now: Int64) {
        guard now >= nextSnapshot else { return }
        sendSnapshot()
        nextSnapshot = now + Self.snapshotInterval
    }

    // MARK: records

    @inline(__always)
    func handle(_ message: ConsumedMessage) {
        counters.consumed &+= 1
        let key = PartitionKey(topicID: message.topicID, partition: message.partition)
        let trackerID: UInt32
        if let id = trackerCache[key] {
            trackerID = id
        } else {
            trackerID = tracker.tracker(for: TopicPartition(topic: message.topic, partition: message.partition))
            trackerCache[key] = trackerID
        }
        if let pipeline = router.pipeline {
            // A partition stopped by `error_policy: fail` takes nothing more: records already
            // fetched behind the failed one are read again after the operator's reload.
            if blocked[key] != nil { return }
            handle(message, trackerID: trackerID, key: key, pipeline: pipeline)
            return
        }
        let routes = router.routes(for: message)
        // at-most-once: the offset may be committed before the copies are acknowledged.
        let acks = config.delivery == .atMostOnce ? 0 : routes.count
        let base = tracker.append(tracker: trackerID, offset: message.offset, acks: acks, at: clock)
        for route in routes {
            send(topic: route.topic, partition: route.preservePartition ? message.partition : nil,
                 key: message.key, value: message.value, headers: .from(message), timestamp: message.timestamp,
                 id: OffsetTracker.id(base, destination: route.index), source: message)
        }
    }

    /// The language path: filter, transform and route through the compiled pipeline, then
    /// produce each result or apply the destination's error policy.
    func handle(_ message: ConsumedMessage, trackerID: UInt32, key: PartitionKey, pipeline: Pipeline) {
        let input = InputRecord(topic: message.topic, partition: message.partition, offset: message.offset,
                                key: message.key, value: message.value, headers: message.headers,
                                timestamp: message.timestamp)
        pipeline.process(input, into: &results)
        var acks = 0
        var failure: (destination: Int, error: RecordError)?
        for (index, result) in results.enumerated() {
            switch result {
            case .filtered:
                counters.filtered &+= 1
                filteredByIndex[index] &+= 1
            case .produce:
                acks += 1
            case .failed(let error):
                counters.error(error.kind.rawValue)
                switch router.destinations[index].errorPolicy {
                case .dlq:
                    if dlqTopic != nil { acks += 1 }
                case .skipAndLog:
                    skipLog.warning(logger, "record skipped", metadata: [
                        "destination": "\(router.destinationName(index))", "error_type": "\(error.kind.rawValue)",
                        "error": "\(error.message)", "source": "\(message.topic)[\(message.partition)]@\(message.offset)",
                    ], now: monotonicMs())
                case .fail:
                    if failure == nil { failure = (index, error) }
                }
            }
        }
        if config.delivery == .atMostOnce { acks = 0 }
        // A failed record under `fail` never completes: nothing at or after it is committed.
        let base = tracker.append(tracker: trackerID, offset: message.offset, acks: acks + (failure == nil ? 0 : 1), at: clock)
        for (index, result) in results.enumerated() {
            let id = OffsetTracker.id(base, destination: index)
            switch result {
            case .filtered:
                break
            case .produce(let out):
                produce(out, message: message, id: id)
            case .failed(let error):
                if router.destinations[index].errorPolicy == .dlq, let dlqTopic {
                    deadLetter(message, error: error, destination: index, topic: dlqTopic,
                               id: OffsetTracker.id(base, destination: Router.dlqIndex))
                }
            }
        }
        if let failure {
            let partition = TopicPartition(topic: message.topic, partition: message.partition)
            blocked[key] = partition
            let reason = "\(failure.error.kind.rawValue): \(failure.error.message)"
            failedPartitions.append(FailedPartition(topic: message.topic, partition: message.partition, offset: message.offset,
                                                    destination: router.destinationName(failure.destination), reason: reason))
            logger.error("partition stopped by error_policy fail; fix the configuration and reload", metadata: [
                "partition": "\(message.topic)[\(message.partition)]", "offset": "\(message.offset)",
                "destination": "\(router.destinationName(failure.destination))", "error": "\(reason)",
            ])
            link?.send(.error(message: "\(message.topic)[\(message.partition)] stopped at offset \(message.offset): \(reason)"))
            consumer.pause([partition])
        }
    }

    func produce(_ out: OutputRecord, message: ConsumedMessage, id: UInt64) {
        let topic = producer.topic(out.topic)
        var partition: Int32?
        switch out.partition {
        case .keyHash: partition = nil
        case .preserve: partition = message.partition
        case .hash(let bytes):
            do {
                partition = try router.partition(hashing: bytes, topic: topic)
            } catch {
                stop("unable to read the partition count of \(topic.name): \(error)", kind: "produce",
                     partition: TopicPartition(topic: message.topic, partition: message.partition), offset: message.offset)
                return
            }
        }
        let headers: OutgoingHeaders
        switch out.headers {
        case .unchanged: headers = .from(message)
        case .replaced(let list): headers = .list(list)
        }
        if case .bytes = out.value { counters.transformed &+= 1 } else if case .bytes = out.key { counters.transformed &+= 1 }
        withBytes(out.key, or: message.key) { key in
            withBytes(out.value, or: message.value) { value in
                send(topic: topic, partition: partition, key: key, value: value, headers: headers,
                     timestamp: out.timestamp ?? message.timestamp, id: id, source: message)
            }
        }
    }

    /// The original record to the dead-letter topic, with headers saying what went wrong.
    func deadLetter(_ message: ConsumedMessage, error: RecordError, destination: Int, topic: ProducerTopic, id: UInt64) {
        var headers: [(name: String, value: [UInt8]?)] = config.dlq.includeOriginalHeaders
            ? message.headers.map { ($0.name, $0.value.map { Array($0) }) } : []
        if config.dlq.includeErrorHeaders {
            func add(_ name: String, _ value: String) { headers.append((name, Array(value.utf8))) }
            // The existing tool's header names and values, so DLQ consumers keep working.
            add("x-streamforge-error", "\(error.kind.rawValue): \(error.message)")
            add("x-streamforge-error-type", error.kind.legacyTypeName)
            add("x-streamforge-source-topic", message.topic)
            add("x-streamforge-source-partition", String(message.partition))
            add("x-streamforge-source-offset", String(message.offset))
            add("x-streamforge-timestamp", rfc3339Now())
            add("x-streamforge-pipeline", config.appid)
            add("x-streamforge-destination", router.destinationName(destination))
            let spec = router.destinations[destination]
            if let filter = spec.filter { add("x-streamforge-filter", filter) }
            if let transform = spec.transform { add("x-streamforge-transform", transform) }
        }
        counters.dlq &+= 1
        send(topic: topic, partition: nil, key: message.key, value: message.value, headers: .list(headers),
             timestamp: message.timestamp, id: id, source: message)
    }

    /// Queues one record, waiting for deliveries while librdkafka's queue is full.
    @inline(__always)
    func send(topic: ProducerTopic, partition: Int32?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
              headers: OutgoingHeaders, timestamp: Int64, id: UInt64, source: ConsumedMessage) {
        while true {
            let error = producer.produce(topic: topic, partition: partition, key: key, value: value, headers: headers,
                                         timestamp: timestamp, id: id)
            guard let error else { return }
            if error.isQueueFull {
                // Backpressure: the target is slower than the source (or down); wait for
                // deliveries. A drain asked for meanwhile gives up on this record: it is not
                // committed, so the next owner of the partition reads it again.
                if control.drainRequested || fatal != nil {
                    abandoned = true
                    return
                }
                pollDeliveries(timeoutMs: 10)
                housekeeping(now: monotonicMs())
                continue
            }
            // A record librdkafka refuses locally (e.g. larger than message.max.bytes) cannot be
            // delivered by retrying: stop here, commit nothing beyond it, and let the supervisor
            // restart the worker, which reads it again and reports it again.
            stop("unable to produce to \(topic.name): \(error)", kind: "produce",
                 partition: TopicPartition(topic: source.topic, partition: source.partition), offset: source.offset)
            return
        }
    }

    func pollDeliveries(timeoutMs: Int32) {
        let wallNow = realtimeMs()
        do {
            let handled = try producer.pollDeliveries(timeoutMs: timeoutMs) { report in
                if let error = report.error {
                    let partition = tracker.partition(of: report.id)
                    stop("delivery to \(router.destinationName(OffsetTracker.destination(of: report.id))) failed: \(error)",
                         kind: "delivery", partition: partition, offset: nil)
                    return
                }
                tracker.ack(report.id)
                producedByIndex[OffsetTracker.destination(of: report.id)] &+= 1
                // The produced record carries the source's timestamp (unless a destination's
                // `timestamp` changed it): source time → acknowledged.
                if report.timestamp > 0 { counters.latency.observe(milliseconds: wallNow - report.timestamp) }
            }
            if handled > 0 {
                lastAckAt = monotonicMs()
                everAcked = true
            }
        } catch {
            stop("\(error)", kind: "delivery", partition: nil, offset: nil)
        }
    }

    /// A record could not be delivered: its offset is never stored. The worker stops
    /// consuming and exits 75 so the supervisor restarts it from the last commit.
    func stop(_ reason: String, kind: String, partition: TopicPartition?, offset: Int64?) {
        counters.error(kind)
        if fatal == nil {
            logger.error("unable to deliver a record, stopping the worker", metadata: [
                "error": "\(reason)", "partition": "\(partition.map(\.description) ?? "-")",
            ])
            link?.send(.error(message: reason))
        }
        if let partition, !failedPartitions.contains(where: { $0.topic == partition.topic && $0.partition == partition.partition }) {
            failedPartitions.append(FailedPartition(topic: partition.topic, partition: partition.partition,
                                                    offset: offset, reason: reason))
        }
        fatal = fatal ?? reason
    }

    func consumerError(_ error: KafkaError, _ partition: TopicPartition?) {
        if error.isAutoOffsetReset {
            // `offset: error`: the committed position is gone (purged or recreated data).
            stop("offset out of range and offset is 'error': \(error.message)", kind: "offset_reset", partition: partition, offset: nil)
            return
        }
        if error.isTransportLevel {
            logger.warning("source cluster unreachable", metadata: ["error": "\(error.message)"])
        } else {
            counters.error("consumer")
            logger.warning("consumer error", metadata: ["error": "\(error)", "partition": "\(partition.map(\.description) ?? "-")"])
        }
    }

    // MARK: offsets

    func commit(async: Bool) {
        let offsets = tracker.takeStorable()
        guard !offsets.isEmpty else { return }
        do {
            try consumer.storeOffsets(offsets)
            try consumer.commit(offsets, async: async)
            counters.committed &+= 1
            for o in offsets { committedOffsets[o.topicPartition] = o.offset }
        } catch {
            logger.warning("unable to commit offsets", metadata: ["error": "\(error)"])
        }
    }

    /// Waits for in-flight records (all, or of some partitions) up to the drain timeout. A
    /// partition stopped by `error_policy: fail` keeps its failed record, which never completes.
    @discardableResult
    func waitForInFlight(_ partitions: [TopicPartition]?) -> Bool {
        let deadline = monotonicMs() + options.drainTimeoutMs
        var nextCommit = monotonicMs() + 1000
        func settled() -> Bool {
            let blockedCount = blocked.values.filter { partitions?.contains($0) ?? true }.count
            return tracker.inFlight(partitions) <= blockedCount
        }
        while !settled() && fatal == nil && !abandoned {
            let now = monotonicMs()
            if now >= deadline { return false }
            if partitions == nil && now >= nextCommit {
                // A long wait still commits the acknowledged prefix, in case it is cut short.
                commit(async: true)
                nextCommit = now + 1000
            }
            pollDeliveries(timeoutMs: 50)
            sendSnapshotIfDue(now: monotonicMs())
        }
        return settled()
    }

    public func partitionsAssigned(_ partitions: [TopicPartition]) {
        trackerCache.removeAll()
        logger.info("partitions assigned", metadata: ["partitions": "\(partitions.map(\.description).joined(separator: ","))"])
        if state == .starting { state = .running }
        if pausedByRequest { consumer.pause(partitions) }
        if !readySent {
            readySent = true
            link?.send(.ready(assigned: consumer.assignment().map(\.wire)))
        }
    }

    public func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool) {
        defer {
            trackerCache.removeAll()
            for p in partitions { committedOffsets[p] = nil }
            blocked = blocked.filter { !partitions.contains($0.value) }
            failedPartitions.removeAll { partitions.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
        }
        if lost {
            // Another member may own them already: commit nothing.
            logger.warning("partitions lost", metadata: ["partitions": "\(partitions.map(\.description).joined(separator: ","))"])
        } else {
            let complete = waitForInFlight(partitions)
            let offsets = tracker.allStorable(partitions)
            do {
                try consumer.storeOffsets(offsets)
                try consumer.commit(offsets, async: false)
                counters.committed &+= 1
            } catch {
                logger.warning("unable to commit revoked partitions", metadata: ["error": "\(error)"])
            }
            logger.info("partitions revoked", metadata: [
                "partitions": "\(partitions.map(\.description).joined(separator: ","))",
                "in_flight_abandoned": "\(complete ? 0 : tracker.inFlight(partitions))",
            ])
        }
        tracker.remove(partitions)
    }

    // MARK: control

    func applyPauseRequest() {
        let want = control.pauseRequested
        guard want != pausedByRequest else { return }
        pausedByRequest = want
        let assignment = consumer.assignment()
        if want {
            consumer.pause(assignment)
            state = .paused
            logger.info("paused", metadata: ["partitions": "\(assignment.count)"])
        } else {
            // A partition stopped by `error_policy: fail` stays stopped until the config is fixed.
            let stopped = Set(blocked.values)
            consumer.resume(assignment.filter { !stopped.contains($0) })
            state = .running
            logger.info("resumed", metadata: ["partitions": "\(assignment.count)"])
        }
    }

    func sendSnapshot() {
        let now = monotonicMs()
        let oldest = tracker.oldestInFlightConsumedAt()
        // A partition stopped by `error_policy: fail` waits for a fixed configuration, not for
        // the target: it does not make deliveries stalled.
        checkStalled(now: now, oldest: blocked.isEmpty ? oldest : tracker.oldestInFlightConsumedAt(excluding: Set(blocked.values)))
        guard let link else { return }
        var counters = self.counters
        for (index, count) in filteredByIndex.enumerated() where count > 0 {
            counters.filteredBy[router.destinationName(index)] = count
        }
        for (index, count) in producedByIndex.enumerated() where count > 0 {
            counters.produced[router.destinationName(index)] = count
        }
        // Partitions not being fetched (paused, or the prefetch full behind a stalled target)
        // get their high watermark from the broker every few seconds, so lag keeps growing.
        let notFetching = pausedByRequest || stalledSince != nil
        let query = notFetching && now >= nextWatermarkQuery
        if query { nextWatermarkQuery = now + 5000 }
        let lag = consumer.lag(firstUndelivered: tracker.firstUndelivered(), queryBroker: query).map {
            PartitionLag(topic: $0.key.topic, partition: $0.key.partition, lag: $0.value, committed: committedOffsets[$0.key])
        }
        var reported = state
        if fatal != nil || !failedPartitions.isEmpty { reported = .failed } else if stalledSince != nil && state == .running { reported = .stalled }
        let snapshot = WorkerSnapshot(state: reported, counters: counters, assigned: consumer.assignment().map(\.wire),
                                      lag: lag, failed: failedPartitions, inFlight: tracker.inFlight(),
                                      oldestInFlightMs: oldest.map { max(0, now - $0) },
                                      lastAckMs: everAcked ? now - lastAckAt : nil)
        link.send(.snapshot(snapshot))
    }

    /// Deliveries are stalled when records wait and the target acknowledged none of them for
    /// `stall_timeout`: logged once when it starts and once when it ends.
    func checkStalled(now: Int64, oldest: Int64?) {
        let limit = Int64(config.supervision.stallTimeoutSeconds) * 1000
        let waitingSince = oldest.map { max($0, lastAckAt) }
        if let waitingSince, now - waitingSince >= limit {
            guard stalledSince == nil else { return }
            stalledSince = waitingSince
            let message = "deliveries stalled: \(tracker.inFlight()) records wait, none acknowledged for \(Double(now - waitingSince) / 1000)s"
            // The snapshot carries the state to the supervisor (status, STATUS=, /metrics).
            logger.warning("\(message)", metadata: ["in_flight": "\(tracker.inFlight())"])
        } else if let since = stalledSince, waitingSince == nil || now - waitingSince! < limit {
            stalledSince = nil
            logger.notice("deliveries resumed", metadata: ["stalled_for": "\(Double(now - since) / 1000)s",
                                                           "in_flight": "\(tracker.inFlight())"])
        }
    }

    /// Stops fetching, waits for in-flight records, commits, leaves the group.
    func drain() -> Int32 {
        state = .draining
        sendSnapshot()
        logger.info("draining", metadata: ["in_flight": "\(tracker.inFlight())"])
        consumer.pause(consumer.assignment())
        let complete = waitForInFlight(nil)
        commit(async: false)
        if control.leaveRequested {
            // Scale-down: leave now, so the group does not wait for our session to time out.
            consumer.unsubscribe()
            let deadline = monotonicMs() + 10_000
            while !consumer.assignment().isEmpty && monotonicMs() < deadline {
                _ = consumer.poll(timeoutMs: 100) { _ in }  // partitions are paused: nothing arrives
            }
            logger.info("left the group")
        }
        consumer.close()
        sendSnapshot()
        if let fatal {
            logger.error("worker stopped on a delivery failure", metadata: ["error": "\(fatal)"])
            return WorkerExit.temporary
        }
        logger.info("worker drained", metadata: [
            "consumed": "\(counters.consumed)", "completed": "\(tracker.completed)",
            "in_flight_abandoned": "\(complete ? 0 : tracker.inFlight())",
        ])
        return WorkerExit.ok
    }
}

/// Why a worker could not start (all are configuration problems: exit 78).
public enum WorkerStartError: Error, CustomStringConvertible {
    case kafka(KafkaError)
    case language(DSLCompileErrors)
    public var description: String {
        switch self {
        case .kafka(let e): return "\(e)"
        case .language(let e): return "\(e)"
        }
    }
}

extension RecordError.Kind {
    /// The error type the existing tool writes in `x-streamforge-error-type`.
    var legacyTypeName: String {
        switch self {
        case .malformedJSON, .tombstone: return "MessageDeserialization"
        case .transform, .keyTransform, .headerTransform, .timestamp: return "TransformEvaluation"
        }
    }
}
