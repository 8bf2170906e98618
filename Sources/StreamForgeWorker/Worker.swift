#if canImport(Glibc)
import Glibc
#endif
import KafkaBridge
import Logging
import StreamForgeCore
import Synchronization

/// Requests from outside the worker's thread: signals and supervisor commands. Handlers only
/// record; the worker loop acts.
public final class WorkerControl: Sendable {
    private let drain = Atomic<Bool>(false)
    private let paused = Atomic<Bool>(false)
    public init() {}
    public func requestDrain() { drain.store(true, ordering: .relaxed) }
    public var drainRequested: Bool { drain.load(ordering: .relaxed) || processStopSignal.load(ordering: .relaxed) }
    public func setPaused(_ value: Bool) { paused.store(value, ordering: .relaxed) }
    public var pauseRequested: Bool { paused.load(ordering: .relaxed) }
}

/// Set by SIGTERM/SIGINT.
let processStopSignal = Atomic<Bool>(false)

/// SIGTERM and SIGINT make the worker drain: stop fetching, finish in-flight records, flush,
/// commit, close and exit 0.
public func installStopSignalHandlers() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in processStopSignal.store(true, ordering: .relaxed) }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGTERM, &action, nil)
    sigaction(SIGINT, &action, nil)
    signal(SIGPIPE, SIG_IGN)
    // A parent may have spawned us with these blocked; librdkafka's threads, created later,
    // inherit this mask too.
    var unblock = sigset_t()
    sigemptyset(&unblock)
    sigaddset(&unblock, SIGTERM)
    sigaddset(&unblock, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
}

public struct WorkerOptions: Sendable {
    public var slot: Int
    public var hostname: String
    /// Drain and exit once this many records completed (benchmarks and tests).
    public var exitAfterRecords: UInt64?
    /// How long a drain or a revoke waits for in-flight records before giving up on them.
    public var drainTimeoutMs: Int64
    public init(slot: Int = 0, hostname: String = WorkerOptions.currentHostname(), exitAfterRecords: UInt64? = nil,
                drainTimeoutMs: Int64 = 30_000) {
        self.slot = slot
        self.hostname = hostname
        self.exitAfterRecords = exitAfterRecords
        self.drainTimeoutMs = drainTimeoutMs
    }

    public static func currentHostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "localhost" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Exit codes that carry meaning to the supervisor.
public enum WorkerExit {
    public static let ok: Int32 = 0
    /// A transient failure: respawn with backoff.
    public static let temporary: Int32 = 75
    /// A configuration problem: do not respawn.
    public static let config: Int32 = 78
}

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
    var state: WorkerRunState = .starting
    var readySent = false
    var failedPartitions: [FailedPartition] = []
    var pausedByRequest = false
    var fatal: String?

    struct PartitionKey: Hashable {
        var topicID: Int
        var partition: Int32
    }

    public init(config: StreamForgeConfig, options: WorkerOptions, control: WorkerControl,
                link: SupervisorLink?, logger: Logger) throws(KafkaError) {
        self.config = config
        self.options = options
        self.control = control
        self.link = link
        var logger = logger
        logger[metadataKey: "sf.worker.slot"] = "\(options.slot)"
        self.logger = logger
        producer = try KafkaProducer(properties: ClientProperties.producer(config, slot: options.slot))
        router = Router(config: config, producer: producer)
        consumer = try KafkaConsumer(properties: ClientProperties.consumer(config, slot: options.slot,
                                                                           hostname: options.hostname),
                                     rebalanceHandler: self)
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
                                                 "destinations": "\(router.destinationCount)"])
        let commitInterval = Int64(max(config.commitStrategy.commitIntervalMs, 10))
        var nextCommit = monotonicMs() + commitInterval
        var nextSnapshot = monotonicMs() + 1000
        var sincePoll = 0

        while fatal == nil && !control.drainRequested {
            applyPauseRequest()
            let result = consumer.poll(timeoutMs: 100) { message in
                self.handle(message)
            }
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
            let now = monotonicMs()
            if now >= nextCommit {
                pollDeliveries(timeoutMs: 0)
                commit(async: true)
                nextCommit = now + commitInterval
            }
            if now >= nextSnapshot {
                sendSnapshot()
                nextSnapshot = now + 1000
            }
            if let limit = options.exitAfterRecords, tracker.completed >= limit {
                logger.info("record limit reached", metadata: ["records": "\(limit)"])
                break
            }
        }
        return drain()
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
        let routes = router.routes(for: message)
        // at-most-once: the offset may be committed before the copies are acknowledged.
        let acks = config.delivery == .atMostOnce ? 0 : routes.count
        let base = tracker.append(tracker: trackerID, offset: message.offset, acks: acks)
        for route in routes {
            produce(route: route, message: message, id: OffsetTracker.id(base, destination: route.index))
        }
    }

    @inline(__always)
    func produce(route: Route, message: ConsumedMessage, id: UInt64) {
        while true {
            let error = producer.produce(topic: route.topic, partition: route.preservePartition ? message.partition : nil,
                                         key: message.key, value: message.value, headers: .from(message),
                                         timestamp: message.timestamp, id: id)
            guard let error else { return }
            if error.isQueueFull {
                // Backpressure: the target is slower than the source; wait for deliveries.
                pollDeliveries(timeoutMs: 10)
                continue
            }
            // A record librdkafka refuses locally (e.g. larger than message.max.bytes) cannot be
            // delivered by retrying: stop here, commit nothing beyond it, and let the supervisor
            // restart the worker, which re-reads it and reports it again.
            fail("unable to produce to \(route.topic.name): \(error)", partition: TopicPartition(topic: message.topic, partition: message.partition), offset: message.offset)
            tracker.ack(id)  // keep the tracker consistent; the failure stops the worker anyway
            return
        }
    }

    func pollDeliveries(timeoutMs: Int32) {
        do {
            try producer.pollDeliveries(timeoutMs: timeoutMs) { report in
                if let error = report.error {
                    let partition = tracker.partition(of: report.id)
                    fail("delivery failed: \(error)", partition: partition, offset: nil)
                    return
                }
                tracker.ack(report.id)
                counters.produced[router.destinationName(OffsetTracker.destination(of: report.id)), default: 0] &+= 1
            }
        } catch {
            fail("\(error)", partition: nil, offset: nil)
        }
    }

    /// A record could not be delivered: its offset is never stored. The worker stops
    /// consuming and exits 75 so the supervisor restarts it from the last commit.
    func fail(_ reason: String, partition: TopicPartition?, offset: Int64?) {
        counters.errors &+= 1
        if fatal == nil {
            logger.error("unable to deliver a record, stopping the worker", metadata: [
                "error": "\(reason)", "partition": "\(partition.map(\.description) ?? "-")",
            ])
            link?.send(.error(message: reason))
        }
        if let partition {
            failedPartitions.append(FailedPartition(topic: partition.topic, partition: partition.partition,
                                                    offset: offset, reason: reason))
        }
        fatal = fatal ?? reason
    }

    func consumerError(_ error: KafkaError, _ partition: TopicPartition?) {
        if error.isAutoOffsetReset {
            // `offset: error`: the committed position is gone (purged or recreated data).
            fail("offset out of range and offset is 'error': \(error.message)", partition: partition, offset: nil)
            return
        }
        if error.isTransportLevel {
            logger.warning("source cluster unreachable", metadata: ["error": "\(error.message)"])
        } else {
            counters.errors &+= 1
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
        } catch {
            logger.warning("unable to commit offsets", metadata: ["error": "\(error)"])
        }
    }

    /// Waits for in-flight records (all, or of some partitions) up to the drain timeout.
    @discardableResult
    func waitForInFlight(_ partitions: [TopicPartition]?) -> Bool {
        let deadline = monotonicMs() + options.drainTimeoutMs
        while tracker.inFlight(partitions) > 0 && fatal == nil {
            if monotonicMs() >= deadline { return false }
            pollDeliveries(timeoutMs: 50)
        }
        return tracker.inFlight(partitions) == 0
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
        trackerCache.removeAll()
        if lost {
            // Another member may own them already: commit nothing.
            logger.warning("partitions lost", metadata: ["partitions": "\(partitions.map(\.description).joined(separator: ","))"])
        } else {
            let complete = waitForInFlight(partitions)
            let offsets = tracker.allStorable(partitions)
            do {
                try consumer.storeOffsets(offsets)
                try consumer.commit(offsets, async: false)
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
            consumer.resume(assignment)
            state = .running
            logger.info("resumed", metadata: ["partitions": "\(assignment.count)"])
        }
    }

    func sendSnapshot() {
        guard let link else { return }
        var counters = self.counters
        counters.committed = self.counters.committed
        let lag = consumer.lag().map { PartitionLag(topic: $0.key.topic, partition: $0.key.partition, lag: $0.value) }
        let snapshot = WorkerSnapshot(state: fatal != nil ? .failed : state, counters: counters,
                                      assigned: consumer.assignment().map(\.wire), lag: lag, failed: failedPartitions)
        link.send(.snapshot(snapshot))
    }

    /// Stops fetching, waits for in-flight records, commits, leaves the group.
    func drain() -> Int32 {
        state = .draining
        sendSnapshot()
        logger.info("draining", metadata: ["in_flight": "\(tracker.inFlight())"])
        consumer.pause(consumer.assignment())
        let complete = waitForInFlight(nil)
        commit(async: false)
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

@inline(__always)
func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
