// `streamforgectl dry-run` and `streamforgectl test`: sample records through the same compiled
// pipeline as the daemon, with each destination's outcome spelt out as the worker would produce
// it: topic, partition number, key, value, headers and timestamp, or the error and its policy.

public import StreamForgeLanguage

/// What one destination does with one record.
public enum DestinationOutcome: Sendable, Equatable {
    /// The destination does not take the record (its filter, or content routing).
    case filtered
    case produced(ProducedRecord)
    /// The record goes to the destination's error policy.
    case failed(kind: String, message: String, policy: ErrorPolicy, deadLetterTopic: String?)
}

/// A record as a destination would produce it.
public struct ProducedRecord: Sendable, Equatable {
    public var topic: String
    /// nil when it cannot be known here: see `partitionNote`.
    public var partition: Int32?
    /// How the partition was chosen, or why it is not known.
    public var partitionNote: String
    /// nil = null key.
    public var key: [UInt8]?
    /// nil = tombstone.
    public var value: [UInt8]?
    public var headers: [(name: String, value: [UInt8]?)]
    public var timestamp: Int64
    /// True when the source timestamp was kept.
    public var timestampKept: Bool

    public static func == (a: ProducedRecord, b: ProducedRecord) -> Bool {
        a.topic == b.topic && a.partition == b.partition && a.partitionNote == b.partitionNote && a.key == b.key
            && a.value == b.value && a.headers.map(\.name) == b.headers.map(\.name)
            && a.headers.map(\.value) == b.headers.map(\.value) && a.timestamp == b.timestamp && a.timestampKept == b.timestampKept
    }
}

/// One sample line and what became of it.
public struct RecordOutcome: Sendable {
    /// 1-based among the records (blank and `#` lines are not records).
    public var number: Int
    /// 1-based line of the input.
    public var line: Int
    /// The record as read, defaults applied; nil when the line could not be read.
    public var record: DryRunRecord?
    public var readError: DryRunRecord.ReadError?
    /// One per destination, in order (empty when the line could not be read).
    public var destinations: [DestinationOutcome]
}

/// The counts of a run, for the summary line and the exit status.
public struct DryRunSummary: Sendable, Equatable {
    public var records = 0
    /// Lines that could not be read as a record.
    public var unreadable = 0
    /// Records produced, per destination.
    public var produced: [Int]
    /// Record × destination pairs filtered out.
    public var filtered = 0
    /// Record × destination pairs that would go to the error policy.
    public var errors = 0

    public init(destinations: Int) { produced = Array(repeating: 0, count: destinations) }

    public mutating func add(_ outcome: RecordOutcome) {
        records += 1
        if outcome.readError != nil { unreadable += 1 }
        for (i, d) in outcome.destinations.enumerated() {
            switch d {
            case .filtered: filtered += 1
            case .produced: produced[i] += 1
            case .failed: errors += 1
            }
        }
    }
}

/// Runs sample records through a compiled configuration.
public final class DryRun {
    let pipeline: Pipeline
    let destinations: [DestinationConfig]
    let deadLetterTopic: String?
    /// The partition count of a target topic, when known.
    let partitionCount: (String) -> Int32?
    public var defaults: DryRunRecord.Defaults
    /// Each destination's name in reports: its `output` as written (`output#i` for the second
    /// and later destinations with the same `output`).
    public let names: [String]
    private var results: [DestinationResult] = []
    private var count = 0

    /// Compiles `config` exactly as a worker does.
    public convenience init(config: StreamForgeConfig, defaults: DryRunRecord.Defaults,
                            partitionCount: @escaping (String) -> Int32?) throws(DSLCompileErrors) {
        let routing = config.routing ?? RoutingConfig(destinations: config.destinations)
        try self.init(routing: routing, deadLetterTopic: config.dlq.enabled ? config.dlq.topic : nil,
                      defaults: defaults, partitionCount: partitionCount)
    }

    public init(routing: RoutingConfig, deadLetterTopic: String? = DLQConfig.defaultTopic,
                defaults: DryRunRecord.Defaults = .init(), partitionCount: @escaping (String) -> Int32? = { _ in nil }) throws(DSLCompileErrors) {
        pipeline = try Pipeline(routing: routing)
        destinations = routing.destinations
        self.deadLetterTopic = deadLetterTopic
        self.defaults = defaults
        self.partitionCount = partitionCount
        var seen = Set<String>()
        names = routing.destinations.enumerated().map { i, d in seen.insert(d.output).inserted ? d.output : "\(d.output)#\(i)" }
    }

    /// Reads and runs one input line; nil for a blank line or a `#` comment.
    public func run(line: String, lineNumber: Int) -> RecordOutcome? {
        let text = line.trimmingSpaces()
        if text.isEmpty || text.hasPrefix("#") { return nil }
        count += 1
        do {
            let record = try DryRunRecord(line: text, defaults: defaults, offset: Int64(count - 1))
            return RecordOutcome(number: count, line: lineNumber, record: record, readError: nil, destinations: run(record))
        } catch {
            return RecordOutcome(number: count, line: lineNumber, record: nil, readError: error, destinations: [])
        }
    }

    /// Every destination's outcome for `record`.
    public func run(_ record: DryRunRecord) -> [DestinationOutcome] {
        record.withInputRecord { pipeline.process($0, into: &results) }
        return results.enumerated().map { i, r in
            switch r {
            case .filtered:
                return .filtered
            case .failed(let e):
                let policy = i < destinations.count ? destinations[i].errorPolicy : .dlq
                return .failed(kind: e.kind.rawValue, message: e.message, policy: policy,
                               deadLetterTopic: policy == .dlq ? deadLetterTopic : nil)
            case .produce(let o):
                return .produced(produced(o, from: record))
            }
        }
    }

    func produced(_ o: OutputRecord, from record: DryRunRecord) -> ProducedRecord {
        let key: [UInt8]?
        switch o.key { case .unchanged: key = record.key; case .bytes(let b): key = b }
        let value: [UInt8]?
        switch o.value { case .unchanged: value = record.value; case .bytes(let b): value = b }
        let headers: [(name: String, value: [UInt8]?)]
        switch o.headers { case .unchanged: headers = record.headers; case .replaced(let h): headers = h }
        let (partition, note) = self.partition(o.partition, key: key, topic: o.topic, source: record.partition)
        return ProducedRecord(topic: o.topic, partition: partition, partitionNote: note, key: key, value: value,
                              headers: headers, timestamp: o.timestamp ?? record.timestamp, timestampKept: o.timestamp == nil)
    }

    /// The partition the worker would write to, as its producer picks it: murmur2 of the key
    /// (librdkafka's `murmur2_random`, the Java client's partitioner), the source partition, or
    /// murmur2 of a field over the target topic's partition count.
    func partition(_ choice: PartitionChoice, key: [UInt8]?, topic: String, source: Int32) -> (Int32?, String) {
        let hashed: [UInt8]
        let what: String
        switch choice {
        case .preserve:
            return (source, "the source partition")
        case .keyHash:
            guard let key else { return (nil, "the key is null: the producer picks a partition at random") }
            hashed = key
            what = "murmur2 of the key"
        case .hash(let bytes):
            hashed = bytes
            what = "murmur2 of the partition field"
        }
        guard let count = partitionCount(topic), count > 0 else {
            return (nil, "\(what); the partition count of '\(topic)' is not known: pass --partitions N")
        }
        return (Murmur2.partition(forKey: hashed, partitionCount: count), "\(what) over \(count) partitions")
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
