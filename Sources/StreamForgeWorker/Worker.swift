#if canImport(Glibc)
import Glibc
#endif
public import KafkaBridge
public import Logging
public import StreamForgeCore
public import StreamForgeIPC
public import StreamForgeLanguage

/// One consumer-group member: consume → route → produce → commit, at-least-once.
///
/// The loop moves data between librdkafka and `WorkerCore`: it hands the core each record with
/// its destination results and each delivery report, and performs what the core decides
/// (produce, dead-letter, pause a stopped partition, stop, commit). What is left here is I/O:
/// polls, backpressure, the rebalance callbacks, snapshots to the supervisor, logs.
///
/// Everything runs on the calling thread: the consumer's rebalance callback and the
/// producer's delivery reports are served from this thread's polls, so the core needs no lock.
public final class Worker: RebalanceHandler {
    let config: StreamForgeConfig
    let options: WorkerOptions
    let control: WorkerControl
    let link: SupervisorLink?
    let logger: Logger
    let router: Router

    var consumer: KafkaConsumer!
    let producer: KafkaProducer
    /// Decides what happens to records and deliveries, and what may be committed.
    var core: WorkerCore

    var state: WorkerRunState = .starting
    var readySent = false
    var pausedByRequest = false
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
    var nextWatermarkQuery: Int64 = 0

    public init(config: StreamForgeConfig, options: WorkerOptions, control: WorkerControl,
                link: SupervisorLink?, logger: Logger) throws(WorkerStartError) {
        self.config = config
        self.options = options
        self.control = control
        self.link = link
        var logger = logger
        logger[metadataKey: "sf.worker.slot"] = "\(options.slot)"
        self.logger = logger
        core = WorkerCore(config: config, now: monotonicMs())
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
        dlqTopic = config.dlq.enabled ? producer.topic(config.dlq.topic ?? DLQConfig.defaultTopic) : nil
        do {
            consumer = try KafkaConsumer(properties: ClientProperties.consumer(config, slot: options.slot,
                                                                               hostname: options.hostname),
                                         rebalanceHandler: self)
        } catch {
            throw .kafka(error)
        }
        // Records whose key and value pass unchanged are sent from the consumed record's
        // buffers, which librdkafka keeps until the last copy's delivery report.
        producer.sendFromBuffers(of: consumer)
    }

    /// Runs until drained; returns the process exit code.
    public func run() -> Int32 {
        link?.send(.hello(slot: options.slot, pid: getpid()))
        do {
            try consumer.subscribe(config.input.subscription)
        } catch {
            logger.error("unable to subscribe", metadata: ["error": "\(error)"])
            return ExitCode.config.rawValue
        }
        logger.info("worker started", metadata: ["input": "\(config.input.subscription.joined(separator: ","))",
                                                 "destinations": "\(router.destinationCount)",
                                                 "path": "\(router.pipeline == nil ? "mirror" : "language")"])
        nextCommit = monotonicMs() + commitInterval
        nextSnapshot = monotonicMs() + Self.snapshotInterval
        while core.fatal == nil && !control.drainRequested {
            applyPauseRequest()
            // A batch of records per queue operation; the clock is read and the delivery
            // reports are served once per batch, not per record. librdkafka's batch call waits
            // until the batch is full or the timeout ends, so the loop takes what is queued
            // without waiting, and waits (briefly: the wait delays deliveries and commits) only
            // when nothing is.
            var fetched = consumer.fetchBatch(timeoutMs: 0)
            if fetched == 0 {
                pollDeliveries(timeoutMs: 0)
                fetched = consumer.fetchBatch(timeoutMs: WorkerOptions.idleWaitMs)
            }
            clock = monotonicMs()
            if fetched > 0 {
                consumer.drainBatch({ message in self.handle(message) },
                                    errors: { error, partition in self.consumerError(error, partition) })
            }
            pollDeliveries(timeoutMs: 0)
            housekeeping(now: clock)
            if let limit = options.exitAfterRecords, core.completed >= limit {
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
            commit(core.offsetsForIntervalCommit(), async: config.commitStrategy.commitMode == .async)
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
        let key = WorkerCore.SourceKey(topicID: message.topicID, partition: message.partition)
        if router.pipeline == nil {
            let routes = router.routes(for: message)
            let base: UInt64
            if let known = core.mirror(key, offset: message.offset, copies: routes.count, at: clock) {
                base = known
            } else {
                let tracker = core.track(key, as: TopicPartition(topic: message.topic, partition: message.partition))
                base = core.mirror(tracker, offset: message.offset, copies: routes.count, at: clock)
            }
            mirror(message, base: base, routes: routes)
            return
        }
        let tracker: UInt32
        if let known = core.tracker(for: key) {
            tracker = known
        } else {
            tracker = core.track(key, as: TopicPartition(topic: message.topic, partition: message.partition))
        }
        guard let pipeline = router.pipeline else { return }
        // A stopped partition takes nothing more: records already fetched behind the failed
        // one are read again after the operator's reload.
        guard core.admit(tracker) else { return }
        handle(message, tracker: tracker, pipeline: pipeline)
    }

    /// The pure mirror: every destination gets the record unchanged.
    @inline(__always)
    func mirror(_ message: ConsumedMessage, base: UInt64, routes: [Route]) {
        let last = routes.count - 1
        for (n, route) in routes.enumerated() {
            // The last copy takes the record's header list; the others copy it.
            send(topic: route.topic, partition: route.preservePartition ? message.partition : nil,
                 key: message.key, value: message.value, headers: n == last ? .detached(message) : .from(message),
                 timestamp: message.timestamp, id: OffsetTracker.id(base, destination: route.index), source: message,
                 unchanged: true)
        }
    }

    /// The language path: filter, transform and route through the compiled pipeline, then
    /// perform the core's decision: produce, dead-letter, log skips, stop the partition.
    func handle(_ message: ConsumedMessage, tracker: UInt32, pipeline: Pipeline) {
        let input = InputRecord(topic: message.topic, partition: message.partition, offset: message.offset,
                                key: message.key, value: message.value, headers: message.headers,
                                timestamp: message.timestamp)
        pipeline.process(input, into: &results)
        let decision = core.record(input, in: tracker, results: results, at: clock)
        for index in results.indices {
            switch results[index] {
            case .filtered:
                break
            case .produce(let out):
                produce(out, message: message, id: decision.id(of: index))
            case .failed(let error):
                if decision.deadLetter.contains(index), let dlqTopic {
                    let headers = core.deadLetterHeaders(for: input, error: error, destination: index, wallClockMs: realtimeMs())
                    send(topic: dlqTopic, partition: nil, key: message.key, value: message.value, headers: .list(headers),
                         timestamp: message.timestamp, id: decision.deadLetterID, source: message, unchanged: true)
                } else if decision.skip.contains(index) {
                    skipLog.warning(logger, "record skipped", metadata: [
                        "destination": "\(core.destinationName(index))", "error_type": "\(error.kind.rawValue)",
                        "error": "\(error.message)", "source": "\(message.topic)[\(message.partition)]@\(message.offset)",
                    ], now: clock)
                }
            }
        }
        if let stop = decision.stop {
            logger.error("partition stopped by error_policy fail; fix the configuration and reload", metadata: [
                "partition": "\(stop.partition)", "offset": "\(stop.offset)",
                "destination": "\(stop.destinationName)", "error": "\(stop.reason)",
            ])
            link?.send(.error(message: "\(stop.partition) stopped at offset \(stop.offset): \(stop.reason)"))
            consumer.pause([stop.partition])
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
        var unchanged = false
        if case .unchanged = out.key, case .unchanged = out.value { unchanged = true }
        withBytes(out.key, or: message.key) { key in
            withBytes(out.value, or: message.value) { value in
                send(topic: topic, partition: partition, key: key, value: value, headers: headers,
                     timestamp: out.timestamp ?? message.timestamp, id: id, source: message, unchanged: unchanged)
            }
        }
    }

    /// Queues one record, waiting for deliveries while librdkafka's queue is full. `unchanged`:
    /// `key` and `value` are `source`'s own buffers, sent without a copy.
    @inline(__always)
    func send(topic: ProducerTopic, partition: Int32?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
              headers: OutgoingHeaders, timestamp: Int64, id: UInt64, source: ConsumedMessage, unchanged: Bool) {
        while true {
            let error = producer.produce(topic: topic, partition: partition, key: key, value: value, headers: headers,
                                         timestamp: timestamp, id: id, source: unchanged ? source : nil)
            guard let error else { return }
            if error.isQueueFull {
                // Backpressure: the target is slower than the source (or down); wait for
                // deliveries. A drain asked for meanwhile gives up on this record: it is not
                // committed, so the next owner of the partition reads it again.
                if control.drainRequested || core.fatal != nil {
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

    // MARK: deliveries and stops

    func pollDeliveries(timeoutMs: Int32) {
        let wallNow = realtimeMs()
        do {
            let handled = try producer.pollDeliveries(timeoutMs: timeoutMs) { report in
                if let error = report.error {
                    announce(core.deliveryFailed(report.id, error: "\(error)"))
                } else {
                    core.delivered(report.id, timestamp: report.timestamp, wallClockMs: wallNow)
                }
            }
            if handled > 0 { core.reportsRead(at: monotonicMs()) }
        } catch {
            stop("\(error)", kind: "delivery", partition: nil, offset: nil)
        }
    }

    /// A record cannot be delivered: its offset is never stored. The worker stops consuming
    /// and exits 75 so the supervisor restarts it from the last commit.
    func stop(_ reason: String, kind: String, partition: TopicPartition?, offset: Int64?) {
        announce(core.stop(reason, kind: kind, partition: partition, offset: offset))
    }

    /// Logs the worker's stop and tells the supervisor, the first time.
    func announce(_ stop: WorkerStop?) {
        guard let stop else { return }
        logger.error("unable to deliver a record, stopping the worker", metadata: [
            "error": "\(stop.reason)", "partition": "\(stop.partition.map(\.description) ?? "-")",
        ])
        link?.send(.error(message: stop.reason))
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
            core.count(error: "consumer")
            logger.warning("consumer error", metadata: ["error": "\(error)", "partition": "\(partition.map(\.description) ?? "-")"])
        }
    }

    // MARK: offsets

    /// Stores and commits what the core says may be committed.
    func commit(_ offsets: [TopicPartitionOffset], async: Bool) {
        guard !offsets.isEmpty else { return }
        do {
            try consumer.storeOffsets(offsets)
            try consumer.commit(offsets, async: async)
            core.committed(offsets)
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
        while !core.settled(partitions) && core.fatal == nil && !abandoned {
            let now = monotonicMs()
            if now >= deadline { return false }
            if partitions == nil && now >= nextCommit {
                // A long wait still commits the acknowledged prefix, in case it is cut short.
                commit(core.offsetsForCommit(), async: true)
                nextCommit = now + 1000
            }
            pollDeliveries(timeoutMs: 50)
            sendSnapshotIfDue(now: monotonicMs())
        }
        return core.settled(partitions)
    }

    public func partitionsAssigned(_ partitions: [TopicPartition]) {
        core.assigned()
        logger.info("partitions assigned", metadata: ["partitions": "\(partitions.map(\.description).joined(separator: ","))"])
        if state == .starting { state = .running }
        if pausedByRequest { consumer.pause(partitions) }
        if !readySent {
            readySent = true
            link?.send(.ready(assigned: consumer.assignment().map(\.wire)))
        }
    }

    public func partitionsRevoked(_ partitions: [TopicPartition], lost: Bool) {
        let names = partitions.map(\.description).joined(separator: ",")
        // Revoked: wait for in-flight records, then commit. Lost: another member may own the
        // partitions already, so nothing waits and the core gives nothing to commit.
        let complete = lost ? false : waitForInFlight(partitions)
        if let offsets = core.offsetsOnRevoke(partitions, lost: lost) {
            do {
                try consumer.storeOffsets(offsets)
                try consumer.commit(offsets, async: false)
                core.committed(offsets)
            } catch {
                logger.warning("unable to commit revoked partitions", metadata: ["error": "\(error)"])
            }
            logger.info("partitions revoked", metadata: [
                "partitions": "\(names)", "in_flight_abandoned": "\(complete ? 0 : core.inFlight(partitions))",
            ])
        } else {
            logger.warning("partitions lost", metadata: ["partitions": "\(names)"])
        }
        core.revoked(partitions)
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
            let stopped = core.stoppedPartitions
            consumer.resume(assignment.filter { !stopped.contains($0) })
            state = .running
            logger.info("resumed", metadata: ["partitions": "\(assignment.count)"])
        }
    }

    func sendSnapshot() {
        let now = monotonicMs()
        checkStalled(now: now)
        guard let link else { return }
        // Partitions not being fetched (paused, or the prefetch full behind a stalled target)
        // get their high watermark from the broker every few seconds, so lag keeps growing.
        let notFetching = pausedByRequest || core.stalledSince != nil
        let query = notFetching && now >= nextWatermarkQuery
        if query { nextWatermarkQuery = now + 5000 }
        let lag = consumer.lag(firstUndelivered: core.offsets.firstUndelivered(), queryBroker: query).map {
            PartitionLag(topic: $0.key.topic, partition: $0.key.partition, lag: $0.value, committed: core.committedOffsets[$0.key])
        }
        let oldest = core.offsets.oldestInFlightConsumedAt()
        let snapshot = WorkerSnapshot(state: core.reportedState(state), counters: core.reportedCounters(),
                                      assigned: consumer.assignment().map(\.wire), lag: lag, failed: core.failedPartitions,
                                      inFlight: core.inFlight(), oldestInFlightMs: oldest.map { max(0, now - $0) },
                                      lastAckMs: core.lastAckAge(now: now))
        link.send(.snapshot(snapshot))
    }

    /// Logs when deliveries stall (records wait, none acknowledged for `stall_timeout`) and
    /// when they resume; the snapshot carries the state to the supervisor (status, STATUS=,
    /// /metrics).
    func checkStalled(now: Int64) {
        switch core.checkStalled(now: now, limitMs: Int64(config.supervision.stallTimeoutSeconds) * 1000) {
        case .stalled(let waitingMs)?:
            let message = "deliveries stalled: \(core.inFlight()) records wait, none acknowledged for \(Double(waitingMs) / 1000)s"
            logger.warning("\(message)", metadata: ["in_flight": "\(core.inFlight())"])
        case .resumed(let stalledForMs)?:
            logger.notice("deliveries resumed", metadata: ["stalled_for": "\(Double(stalledForMs) / 1000)s",
                                                           "in_flight": "\(core.inFlight())"])
        case nil:
            break
        }
    }

    /// Stops fetching, waits for in-flight records, commits, leaves the group.
    func drain() -> Int32 {
        state = .draining
        sendSnapshot()
        logger.info("draining", metadata: ["in_flight": "\(core.inFlight())"])
        consumer.pause(consumer.assignment())
        let complete = waitForInFlight(nil)
        commit(core.offsetsForCommit(), async: false)
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
        if let fatal = core.fatal {
            logger.error("worker stopped on a delivery failure", metadata: ["error": "\(fatal)"])
            return ExitCode.temporary.rawValue
        }
        logger.info("worker drained", metadata: [
            "consumed": "\(core.counters.consumed)", "completed": "\(core.completed)",
            "in_flight_abandoned": "\(complete ? 0 : core.inFlight())",
        ])
        return ExitCode.ok.rawValue
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
