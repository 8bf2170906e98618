// The worker ↔ supervisor protocol, carried over the Unix socketpair that the supervisor hands
// each worker as fd 3 (`STREAMFORGE_SUPERVISOR_FD`). One JSON object per line each way
// (see `LineFramer`). Every message has a `type`:
//
//   worker → supervisor                          supervisor → worker
//   {"type":"hello","slot":0,"pid":812}          {"type":"drain"}
//   {"type":"ready","assigned":[...]}            {"type":"pause"}
//   {"type":"snapshot","snapshot":{...}}         {"type":"resume"}
//   {"type":"error","message":"..."}
//
// `ready` is sent once the worker has subscribed and received its first assignment (an empty
// assignment counts: more workers than partitions leaves some idle). A `snapshot` follows every
// second. Counters are cumulative for the life of the worker process; the supervisor turns
// them into rates and keeps the totals of workers that exited.

import StreamForgeCore

/// One source partition.
public struct TopicPartition: Codable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// What a worker is doing, as it reports it.
public enum WorkerRunState: String, Codable, Sendable, CaseIterable {
    /// Connecting, subscribing, waiting for the first assignment.
    case starting
    /// Consuming.
    case running
    /// Fetching stopped on request (`pause`); in-flight records still complete.
    case paused
    /// Finishing in-flight records, flushing, committing, leaving the group.
    case draining
    /// Stopped by `error_policy: fail`; see `WorkerSnapshot.failed`.
    case failed
    /// Records wait for the target and none was acknowledged for `stall_timeout` (target down,
    /// unreachable, or refusing): consumption waits behind them, nothing is lost.
    case stalled
}

/// Consumer lag of one assigned partition (high watermark − committed/consumed position),
/// from librdkafka statistics. nil when librdkafka does not know it yet.
public struct PartitionLag: Codable, Hashable, Sendable {
    public var topic: String
    public var partition: Int32
    public var lag: Int64?
    /// The last offset this worker committed for the partition (the next record to read).
    public var committed: Int64?

    public init(topic: String, partition: Int32, lag: Int64?, committed: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.lag = lag
        self.committed = committed
    }
}

/// A partition stopped by `error_policy: fail`.
public struct FailedPartition: Codable, Hashable, Sendable {
    public var topic: String
    public var partition: Int32
    /// Offset of the record that could not be processed.
    public var offset: Int64?
    /// Destination whose policy stopped the partition.
    public var destination: String?
    public var reason: String

    public init(topic: String, partition: Int32, offset: Int64?, destination: String? = nil, reason: String) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.destination = destination
        self.reason = reason
    }
}

/// Cumulative counters of one worker process since it started.
public struct WorkerCounters: Codable, Hashable, Sendable {
    /// Records read from the source.
    public var consumed: UInt64
    /// Records acknowledged by the target, per destination output topic (template as configured).
    public var produced: [String: UInt64]
    /// Destination results that took no record (a filter or content routing said no).
    public var filtered: UInt64
    /// `filtered` per destination output topic (template as configured).
    public var filteredBy: [String: UInt64] = [:]
    /// Records whose payload or envelope was rewritten.
    public var transformed: UInt64
    /// Records that could not be processed (bad JSON, transform error, failed delivery).
    public var errors: UInt64
    /// Records sent to a dead-letter topic.
    public var dlq: UInt64
    /// Offset commits sent.
    public var committed: UInt64
    /// `errors` by kind: the record error kinds (`malformed_json`, `transform`, ...),
    /// `delivery` (the target refused a record), `produce` (refused locally),
    /// `offset_reset` (`offset: error` hit), `consumer`.
    public var errorKinds: [String: UInt64]
    /// Time from a record's timestamp to its acknowledgement by the target: counts per bucket
    /// of `LatencyHistogram.bounds` (not cumulative; the last one is +Inf), and the sum.
    public var latency: LatencyHistogram

    public init(consumed: UInt64 = 0, produced: [String: UInt64] = [:], filtered: UInt64 = 0,
                transformed: UInt64 = 0, errors: UInt64 = 0, dlq: UInt64 = 0, committed: UInt64 = 0,
                errorKinds: [String: UInt64] = [:], latency: LatencyHistogram = LatencyHistogram()) {
        self.consumed = consumed
        self.produced = produced
        self.filtered = filtered
        self.transformed = transformed
        self.errors = errors
        self.dlq = dlq
        self.committed = committed
        self.errorKinds = errorKinds
        self.latency = latency
    }

    /// Counts an error of a kind (both in `errors` and in `errorKinds`).
    public mutating func error(_ kind: String) {
        errors &+= 1
        errorKinds[kind, default: 0] &+= 1
    }

    private enum CodingKeys: String, CodingKey {
        case consumed, produced, filtered, filteredBy, transformed, errors, dlq, committed, errorKinds, latency
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        consumed = try c.decodeIfPresent(UInt64.self, forKey: .consumed) ?? 0
        produced = try c.decodeIfPresent([String: UInt64].self, forKey: .produced) ?? [:]
        filtered = try c.decodeIfPresent(UInt64.self, forKey: .filtered) ?? 0
        filteredBy = try c.decodeIfPresent([String: UInt64].self, forKey: .filteredBy) ?? [:]
        transformed = try c.decodeIfPresent(UInt64.self, forKey: .transformed) ?? 0
        errors = try c.decodeIfPresent(UInt64.self, forKey: .errors) ?? 0
        dlq = try c.decodeIfPresent(UInt64.self, forKey: .dlq) ?? 0
        committed = try c.decodeIfPresent(UInt64.self, forKey: .committed) ?? 0
        errorKinds = try c.decodeIfPresent([String: UInt64].self, forKey: .errorKinds) ?? [:]
        latency = try c.decodeIfPresent(LatencyHistogram.self, forKey: .latency) ?? LatencyHistogram()
    }

    /// Produced records over every destination.
    public var producedTotal: UInt64 { produced.values.reduce(0, &+) }

    public static let zero = WorkerCounters()

    /// Field-wise sum (saturating is not needed: 64-bit counters of records).
    public static func + (a: WorkerCounters, b: WorkerCounters) -> WorkerCounters {
        var produced = a.produced
        for (k, v) in b.produced { produced[k, default: 0] &+= v }
        var kinds = a.errorKinds
        for (k, v) in b.errorKinds { kinds[k, default: 0] &+= v }
        var filteredBy = a.filteredBy
        for (k, v) in b.filteredBy { filteredBy[k, default: 0] &+= v }
        var sum = WorkerCounters(consumed: a.consumed &+ b.consumed, produced: produced,
                              filtered: a.filtered &+ b.filtered, transformed: a.transformed &+ b.transformed,
                              errors: a.errors &+ b.errors, dlq: a.dlq &+ b.dlq,
                              committed: a.committed &+ b.committed, errorKinds: kinds,
                              latency: a.latency + b.latency)
        sum.filteredBy = filteredBy
        return sum
    }

    public static func += (a: inout WorkerCounters, b: WorkerCounters) { a = a + b }
}

/// A histogram of seconds with fixed bucket bounds, as Prometheus histograms have them.
public struct LatencyHistogram: Codable, Hashable, Sendable {
    /// Upper bounds in seconds; one more bucket counts everything above the last (+Inf).
    public static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
    private static let boundsMs: [Int64] = bounds.map { Int64($0 * 1000) }
    /// Observations per bucket (not cumulative), `bounds.count + 1` of them.
    public var counts: [UInt64]
    /// Sum of the observations, in milliseconds.
    public var sumMs: UInt64

    public init() {
        counts = [UInt64](repeating: 0, count: Self.bounds.count + 1)
        sumMs = 0
    }

    public var count: UInt64 { counts.reduce(0, &+) }

    public mutating func observe(milliseconds: Int64) {
        let ms = max(0, milliseconds)
        var i = 0
        while i < Self.boundsMs.count && ms > Self.boundsMs[i] { i += 1 }
        counts[i] &+= 1
        sumMs &+= UInt64(ms)
    }

    public static func + (a: LatencyHistogram, b: LatencyHistogram) -> LatencyHistogram {
        var r = a
        if r.counts.count != b.counts.count { return a.counts.count >= b.counts.count ? a : b }
        for i in r.counts.indices { r.counts[i] &+= b.counts[i] }
        r.sumMs &+= b.sumMs
        return r
    }
}

/// What a worker sends every second.
public struct WorkerSnapshot: Codable, Hashable, Sendable {
    public var state: WorkerRunState
    public var counters: WorkerCounters
    /// Current assignment.
    public var assigned: [TopicPartition]
    /// Lag per assigned partition.
    public var lag: [PartitionLag]
    /// Partitions stopped by `error_policy: fail`.
    public var failed: [FailedPartition]
    /// Records consumed and not yet acknowledged by every destination.
    public var inFlight: Int
    /// Milliseconds since the oldest of them was consumed; nil when none waits.
    public var oldestInFlightMs: Int64?
    /// Milliseconds since the target last acknowledged a record; nil before the first.
    public var lastAckMs: Int64?

    public init(state: WorkerRunState, counters: WorkerCounters = .zero, assigned: [TopicPartition] = [],
                lag: [PartitionLag] = [], failed: [FailedPartition] = [], inFlight: Int = 0,
                oldestInFlightMs: Int64? = nil, lastAckMs: Int64? = nil) {
        self.state = state
        self.counters = counters
        self.assigned = assigned
        self.lag = lag
        self.failed = failed
        self.inFlight = inFlight
        self.oldestInFlightMs = oldestInFlightMs
        self.lastAckMs = lastAckMs
    }

    /// Sum of the known lags.
    public var totalLag: Int64 { lag.reduce(0) { $0 &+ ($1.lag ?? 0) } }

    private enum CodingKeys: String, CodingKey { case state, counters, assigned, lag, failed, inFlight, oldestInFlightMs, lastAckMs }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        state = try c.decode(WorkerRunState.self, forKey: .state)
        counters = try c.decodeIfPresent(WorkerCounters.self, forKey: .counters) ?? .zero
        assigned = try c.decodeIfPresent([TopicPartition].self, forKey: .assigned) ?? []
        lag = try c.decodeIfPresent([PartitionLag].self, forKey: .lag) ?? []
        failed = try c.decodeIfPresent([FailedPartition].self, forKey: .failed) ?? []
        inFlight = try c.decodeIfPresent(Int.self, forKey: .inFlight) ?? 0
        oldestInFlightMs = try c.decodeIfPresent(Int64.self, forKey: .oldestInFlightMs)
        lastAckMs = try c.decodeIfPresent(Int64.self, forKey: .lastAckMs)
    }
}

/// Worker → supervisor.
public enum WorkerMessage: Hashable, Sendable {
    /// First message on the link.
    case hello(slot: Int, pid: Int32)
    /// Subscribed and the first assignment received (possibly empty: idle worker).
    case ready(assigned: [TopicPartition])
    /// Periodic state and counters (every second).
    case snapshot(WorkerSnapshot)
    /// Something the operator should see in the supervisor's log and `status`.
    case error(message: String)
}

/// Supervisor → worker.
public enum WorkerCommand: String, Codable, Hashable, Sendable, CaseIterable {
    /// Stop fetching, finish in-flight records, flush, commit, close, exit 0. A static member
    /// keeps its place in the group, so a restart (reload, upgrade) gets its partitions back.
    case drain
    /// Drain, then leave the group (scale-down): the partitions move to the other members at
    /// once instead of after `session.timeout.ms`, static membership or not.
    case leave
    /// Stop fetching (assignment kept).
    case pause
    /// Fetch again after `pause`.
    case resume
}

extension WorkerMessage: Codable {
    private enum CodingKeys: String, CodingKey { case type, slot, pid, assigned, snapshot, message }
    private enum Kind: String, Codable { case hello, ready, snapshot, error }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Kind.self, forKey: .type) {
        case .hello:
            self = .hello(slot: try c.decode(Int.self, forKey: .slot), pid: try c.decode(Int32.self, forKey: .pid))
        case .ready:
            self = .ready(assigned: try c.decodeIfPresent([TopicPartition].self, forKey: .assigned) ?? [])
        case .snapshot:
            self = .snapshot(try c.decode(WorkerSnapshot.self, forKey: .snapshot))
        case .error:
            self = .error(message: try c.decode(String.self, forKey: .message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .hello(let slot, let pid):
            try c.encode(Kind.hello, forKey: .type)
            try c.encode(slot, forKey: .slot)
            try c.encode(pid, forKey: .pid)
        case .ready(let assigned):
            try c.encode(Kind.ready, forKey: .type)
            try c.encode(assigned, forKey: .assigned)
        case .snapshot(let snapshot):
            try c.encode(Kind.snapshot, forKey: .type)
            try c.encode(snapshot, forKey: .snapshot)
        case .error(let message):
            try c.encode(Kind.error, forKey: .type)
            try c.encode(message, forKey: .message)
        }
    }
}

/// The command travels as `{"type":"drain"}` so that fields can be added later.
public struct WorkerCommandFrame: Codable, Hashable, Sendable {
    public var type: WorkerCommand
    public init(_ command: WorkerCommand) { type = command }
}

/// Environment variables of the worker link.
public enum SupervisorEnvironment {
    /// The inherited socket's descriptor number (always 3).
    public static let fdVariable = "STREAMFORGE_SUPERVISOR_FD"
    /// The supervisor's pid, so a worker can tell that its parent already died.
    public static let pidVariable = "STREAMFORGE_SUPERVISOR_PID"
    /// The descriptor number the socket is given in the worker.
    public static let workerFD: Int32 = 3
}
