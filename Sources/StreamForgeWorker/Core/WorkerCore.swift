// The worker's decisions as a pure value: consumed records, destination results and delivery
// reports in; what to produce, dead-letter, skip, stop and commit out. No librdkafka, no clock
// of its own (every time is passed in), deterministic. The loop in Worker.swift moves data
// between librdkafka and this core and performs what it decides; the tests drive it alone.
//
// Rules it keeps:
// - At-least-once: a record is complete when every copy it sent was acknowledged (one per
//   destination that produces it, one per dead letter). A partition's offset is committed only
//   over an unbroken run of complete records (`OffsetTracker`), whatever order the
//   acknowledgements arrive in. With `delivery: at-most-once` a record waits for none.
// - A record that a destination cannot process (bad JSON, a transform error) follows that
//   destination's `error_policy`:
//   `dlq`: the original record goes to the dead-letter topic with `x-streamforge-*` headers,
//   and the record waits for that copy's acknowledgement too;
//   `skip_and_log`: counted and logged, the record completes without it;
//   `fail`: the partition stops at the record. The record never completes, so nothing at or
//   after it is committed, and the partition takes no more records until it is revoked (a
//   reload restarts the worker). The other destinations still get their copies.
// - A failed delivery is never skipped and never dead-lettered, whatever the policy: the worker
//   stops (exit 75) and its successor reads the record again from the last commit.
// - Commits: at every interval the offsets that moved, and every tenth time all of them again
//   (an asynchronous commit may have failed unseen during a rebalance); on revoke those of the
//   revoked partitions, after their in-flight records settled; on a lost assignment nothing
//   (another member may own the partitions already).
// - A revoked or lost partition is forgotten: late delivery reports of its records are ignored.

import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage

struct WorkerCore: Sendable {
    /// A source partition in the loop's terms: the consumer's topic handle (an integer, stable
    /// while the consumer lives) and the partition number; cheaper to hash than a topic name.
    struct SourceKey: Hashable, Sendable {
        var topicID: Int
        var partition: Int32
    }

    /// The delivery-id destination index of dead letters.
    static let deadLetterIndex = OffsetTracker.maxDestinations - 1

    /// The destinations a worker serves: the configuration's, as many as a delivery id can
    /// name besides the dead letters.
    static func destinations(of config: StreamForgeConfig) -> [DestinationConfig] {
        Array(config.destinations.prefix(deadLetterIndex))
    }

    // MARK: settings

    let destinations: [DestinationConfig]
    private let policies: [ErrorPolicy]
    /// A dead-letter topic is configured (`dlq.enabled`).
    let deadLetters: Bool
    let atMostOnce: Bool
    private let appid: String
    private let includeOriginalHeaders: Bool
    private let includeErrorHeaders: Bool

    // MARK: state

    /// Progress of every assigned partition: the commit rule.
    private(set) var offsets = OffsetTracker()
    /// Trackers by source key, rebuilt after each rebalance.
    private var trackers: [SourceKey: UInt32] = [:]
    /// The last source key looked up and its tracker: records come in runs of one partition.
    private var lastKey = SourceKey(topicID: 0, partition: -1)
    private var lastTracker: UInt32 = 0
    /// Partitions stopped by `error_policy: fail`, by tracker.
    private var stopped: [UInt32: TopicPartition] = [:]
    /// Partitions shown as failed in snapshots (stopped by a policy, or where a record could
    /// not be delivered).
    private(set) var failedPartitions: [FailedPartition] = []
    /// Why the worker stops, once it does.
    private(set) var fatal: String?
    /// Everything but `produced` and `filteredBy`, which are kept by destination index and
    /// named in `reportedCounters()`.
    private(set) var counters = WorkerCounters()
    private var producedByIndex = [UInt64](repeating: 0, count: OffsetTracker.maxDestinations)
    private var filteredByIndex = [UInt64](repeating: 0, count: OffsetTracker.maxDestinations)
    private var commitsSinceRefresh = 0
    /// The last offset sent in a commit, per partition (for `committed` in snapshots).
    private(set) var committedOffsets: [TopicPartition: Int64] = [:]
    /// When the target last reported on a record (monotonic ms; the start before the first).
    private var lastAckAt: Int64
    private var everAcked = false
    /// Since when deliveries are stalled, while they are.
    private(set) var stalledSince: Int64?

    /// `now`: monotonic milliseconds at the start.
    init(config: StreamForgeConfig, now: Int64) {
        destinations = Self.destinations(of: config)
        policies = destinations.map(\.errorPolicy)
        deadLetters = config.dlq.enabled
        atMostOnce = config.delivery == .atMostOnce
        appid = config.appid
        includeOriginalHeaders = config.dlq.includeOriginalHeaders
        includeErrorHeaders = config.dlq.includeErrorHeaders
        lastAckAt = now
    }

    func destinationName(_ index: Int) -> String {
        if index == Self.deadLetterIndex { return "dlq" }
        return index < destinations.count ? destinations[index].output : "?"
    }

    // MARK: records

    /// The tracker of a source partition seen since the last rebalance; nil: `track` it.
    @inline(__always)
    func tracker(for key: SourceKey) -> UInt32? {
        trackers[key]
    }

    /// Starts tracking a source partition (after a rebalance, its first record).
    mutating func track(_ key: SourceKey, as partition: TopicPartition) -> UInt32 {
        let id = offsets.tracker(for: partition)
        trackers[key] = id
        return id
    }

    /// A record of source partition `key` on the pure-mirror path (see below); nil when the
    /// partition is not tracked yet: `track` it, then call `mirror(_:offset:copies:at:)`.
    @inline(__always)
    mutating func mirror(_ key: SourceKey, offset: Int64, copies: Int, at now: Int64) -> UInt64? {
        if key != lastKey {
            guard let tracker = trackers[key] else { return nil }
            lastKey = key
            lastTracker = tracker
        }
        return mirror(lastTracker, offset: offset, copies: copies, at: now)
    }

    /// A record on the pure-mirror path, sent unchanged as `copies` copies (one per
    /// destination); `now` is when it was consumed (monotonic ms). Returns its delivery id:
    /// destination `i`'s copy is `OffsetTracker.id(id, destination: i)`.
    @inline(__always)
    mutating func mirror(_ tracker: UInt32, offset: Int64, copies: Int, at now: Int64) -> UInt64 {
        counters.consumed &+= 1
        return offsets.append(tracker: tracker, offset: offset, acks: atMostOnce ? 0 : copies, at: now)
    }

    /// A record was read on the language path: false when its partition is stopped, and the
    /// record is left alone (it is read again once the configuration is fixed).
    @inline(__always)
    mutating func admit(_ tracker: UInt32) -> Bool {
        counters.consumed &+= 1
        return stopped.isEmpty || stopped[tracker] == nil
    }

    /// A record on the language path and its destination results (one per destination, in
    /// order): which copies to produce, which errors dead-letter, skip or stop the partition.
    /// `now` is when it was consumed (monotonic ms). Call `admit` first.
    mutating func record(_ record: InputRecord, in tracker: UInt32, results: [DestinationResult],
                         at now: Int64) -> RecordDecision {
        var decision = RecordDecision()
        var acks = 0
        var failure: (destination: Int, error: RecordError)?
        for index in results.indices {
            switch results[index] {
            case .filtered:
                counters.filtered &+= 1
                filteredByIndex[index] &+= 1
                decision.filtered.insert(index)
            case .produce(let out):
                acks += 1
                decision.produce.insert(index)
                if case .bytes = out.value { counters.transformed &+= 1 } else if case .bytes = out.key { counters.transformed &+= 1 }
            case .failed(let error):
                counters.error(error.kind.rawValue)
                switch policies[index] {
                case .dlq:
                    // Without a dead-letter topic the loader makes `fail` the default and
                    // refuses `error_policy: dlq`.
                    guard deadLetters else { break }
                    acks += 1
                    counters.dlq &+= 1
                    decision.deadLetter.insert(index)
                case .skipAndLog:
                    decision.skip.insert(index)
                case .fail:
                    if failure == nil { failure = (index, error) }
                }
            }
        }
        if atMostOnce { acks = 0 }
        // A record stopped by `fail` waits for an acknowledgement that never comes: nothing at
        // or after it is committed.
        decision.base = offsets.append(tracker: tracker, offset: record.offset, acks: acks + (failure == nil ? 0 : 1), at: now)
        if let failure {
            let partition = TopicPartition(topic: record.topic, partition: record.partition)
            stopped[tracker] = partition
            let stop = PartitionStop(partition: partition, offset: record.offset, destination: failure.destination,
                                     destinationName: destinationName(failure.destination),
                                     reason: "\(failure.error.kind.rawValue): \(failure.error.message)")
            failedPartitions.append(FailedPartition(topic: record.topic, partition: record.partition, offset: record.offset,
                                                    destination: stop.destinationName, reason: stop.reason))
            decision.stop = stop
        }
        return decision
    }

    /// The headers of a dead letter: the original record's (unless `include_original_headers`
    /// is off), then, unless `include_error_headers` is off, the existing tool's
    /// `x-streamforge-*` headers, so that its dead-letter consumers keep working.
    /// `wallClockMs`: now, for `x-streamforge-timestamp`.
    func deadLetterHeaders(for record: InputRecord, error: RecordError, destination: Int,
                           wallClockMs: Int64) -> [(name: String, value: [UInt8]?)] {
        var headers: [(name: String, value: [UInt8]?)] = includeOriginalHeaders
            ? record.headers.map { ($0.name, $0.value.map { Array($0) }) } : []
        guard includeErrorHeaders else { return headers }
        func add(_ name: String, _ value: String) { headers.append((name, Array(value.utf8))) }
        add("x-streamforge-error", "\(error.kind.rawValue): \(error.message)")
        add("x-streamforge-error-type", error.kind.legacyTypeName)
        add("x-streamforge-source-topic", record.topic)
        add("x-streamforge-source-partition", String(record.partition))
        add("x-streamforge-source-offset", String(record.offset))
        add("x-streamforge-timestamp", rfc3339(milliseconds: wallClockMs))
        add("x-streamforge-pipeline", appid)
        add("x-streamforge-destination", destinationName(destination))
        if destination < destinations.count {
            let spec = destinations[destination]
            if let filter = spec.filter { add("x-streamforge-filter", filter) }
            if let transform = spec.transform { add("x-streamforge-transform", transform) }
        }
        return headers
    }

    // MARK: deliveries

    /// The target acknowledged copy `id`. `timestamp` is the produced record's (ms since the
    /// epoch, ≤ 0 for none) and `wallClockMs` now: their difference is the delivery latency.
    /// Returns true when its partition's committable offset moved.
    @inline(__always)
    @discardableResult
    mutating func delivered(_ id: UInt64, timestamp: Int64, wallClockMs: Int64) -> Bool {
        producedByIndex[OffsetTracker.destination(of: id)] &+= 1
        // The produced record carries the source's timestamp (unless a destination's
        // `timestamp` changed it): source time → acknowledged.
        if timestamp > 0 { counters.latency.observe(milliseconds: wallClockMs - timestamp) }
        return offsets.ack(id)
    }

    /// The target refused copy `id` for good (`error` says why). The record is never
    /// committed: the worker stops. Non-nil the first time the worker stops (log it, tell the
    /// supervisor).
    mutating func deliveryFailed(_ id: UInt64, error: String) -> WorkerStop? {
        stop("delivery to \(destinationName(OffsetTracker.destination(of: id))) failed: \(error)", kind: "delivery",
             partition: offsets.partition(of: id), offset: nil)
    }

    /// Delivery reports were read at `now` (monotonic ms): the target is alive.
    mutating func reportsRead(at now: Int64) {
        lastAckAt = now
        everAcked = true
    }

    // MARK: stops and errors

    /// The worker cannot go on (a delivery or a produce failed, `offset: error` hit): it stops
    /// consuming, commits what was delivered and exits 75. Counts an error of `kind` each time;
    /// non-nil only the first time.
    mutating func stop(_ reason: String, kind: String, partition: TopicPartition?, offset: Int64?) -> WorkerStop? {
        counters.error(kind)
        if let partition, !failedPartitions.contains(where: { $0.topic == partition.topic && $0.partition == partition.partition }) {
            failedPartitions.append(FailedPartition(topic: partition.topic, partition: partition.partition,
                                                    offset: offset, reason: reason))
        }
        guard fatal == nil else { return nil }
        fatal = reason
        return WorkerStop(reason: reason, partition: partition)
    }

    /// An error that stops nothing (a consumer error), counted by kind.
    mutating func count(error kind: String) {
        counters.error(kind)
    }

    // MARK: offsets

    /// The interval commit: the offsets that moved since the last commit, and every tenth time
    /// every committable offset again.
    mutating func offsetsForIntervalCommit() -> [TopicPartitionOffset] {
        commitsSinceRefresh += 1
        if commitsSinceRefresh >= 10 {
            commitsSinceRefresh = 0
            offsets.markAllDirty()
        }
        return offsets.takeStorable()
    }

    /// The offsets that moved since the last commit (a drain, a long wait).
    mutating func offsetsForCommit() -> [TopicPartitionOffset] {
        offsets.takeStorable()
    }

    /// What to commit for partitions taken away: their committable offsets when revoked, nil
    /// when lost (another member may own them already: commit nothing).
    func offsetsOnRevoke(_ partitions: [TopicPartition], lost: Bool) -> [TopicPartitionOffset]? {
        lost ? nil : offsets.allStorable(partitions)
    }

    /// A commit of `offsets` succeeded.
    mutating func committed(_ committed: [TopicPartitionOffset]) {
        counters.committed &+= 1
        for o in committed { committedOffsets[o.topicPartition] = o.offset }
    }

    /// True when every in-flight record (of `partitions`, or of all) is complete but the ones
    /// stopped by `error_policy: fail`, which never complete.
    func settled(_ partitions: [TopicPartition]?) -> Bool {
        let stoppedCount = stopped.values.filter { partitions?.contains($0) ?? true }.count
        return offsets.inFlight(partitions) <= stoppedCount
    }

    // MARK: rebalances

    /// Partitions were assigned: source keys are looked up again.
    mutating func assigned() {
        trackers.removeAll()
        lastKey = SourceKey(topicID: 0, partition: -1)
    }

    /// Partitions were revoked or lost (and committed first, if revoked): everything about them
    /// is forgotten, a stop by `error_policy: fail` included.
    mutating func revoked(_ partitions: [TopicPartition]) {
        trackers.removeAll()
        lastKey = SourceKey(topicID: 0, partition: -1)
        for p in partitions { committedOffsets[p] = nil }
        stopped = stopped.filter { !partitions.contains($0.value) }
        failedPartitions.removeAll { partitions.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
        offsets.remove(partitions)
    }

    // MARK: observation

    /// Records completed since the start.
    var completed: UInt64 { offsets.completed }

    /// Records read and not complete yet (of `partitions`, or of all).
    func inFlight(_ partitions: [TopicPartition]? = nil) -> Int { offsets.inFlight(partitions) }

    var stoppedPartitions: Set<TopicPartition> { Set(stopped.values) }

    /// Deliveries are stalled when records wait and the target acknowledged none of them for
    /// `limitMs`; a partition stopped by `error_policy: fail` waits for a fixed configuration,
    /// not for the target, and is left out. Non-nil when that changes, to log once.
    mutating func checkStalled(now: Int64, limitMs: Int64) -> StallChange? {
        let oldest = stopped.isEmpty ? offsets.oldestInFlightConsumedAt()
            : offsets.oldestInFlightConsumedAt(excluding: stoppedPartitions)
        let waitingSince = oldest.map { max($0, lastAckAt) }
        if let waitingSince, now - waitingSince >= limitMs {
            guard stalledSince == nil else { return nil }
            stalledSince = waitingSince
            return .stalled(waitingMs: now - waitingSince)
        }
        if let since = stalledSince {
            stalledSince = nil
            return .resumed(stalledForMs: now - since)
        }
        return nil
    }

    /// The state to report: failed once anything failed, stalled while running stalled.
    func reportedState(_ state: WorkerRunState) -> WorkerRunState {
        if fatal != nil || !failedPartitions.isEmpty { return .failed }
        if stalledSince != nil && state == .running { return .stalled }
        return state
    }

    /// The counters with `produced` and `filteredBy` by destination name.
    func reportedCounters() -> WorkerCounters {
        var counters = self.counters
        for (index, count) in filteredByIndex.enumerated() where count > 0 {
            counters.filteredBy[destinationName(index)] = count
        }
        for (index, count) in producedByIndex.enumerated() where count > 0 {
            counters.produced[destinationName(index)] = count
        }
        return counters
    }

    /// How long ago the target last reported on a record, once it has.
    func lastAckAge(now: Int64) -> Int64? {
        everAcked ? now - lastAckAt : nil
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
