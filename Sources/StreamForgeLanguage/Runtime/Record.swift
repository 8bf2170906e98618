// The records the pipeline reads and the results it hands back to the worker.

/// Borrowed view of one consumed record, valid only during the call.
public struct InputRecord {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// nil = null key.
    public var key: UnsafeRawBufferPointer?
    /// nil = tombstone.
    public var value: UnsafeRawBufferPointer?
    /// In record order, duplicates included; a nil value is a null header value.
    public var headers: [(name: String, value: UnsafeRawBufferPointer?)]
    /// Milliseconds since the epoch.
    public var timestamp: Int64

    public init(topic: String, partition: Int32, offset: Int64, key: UnsafeRawBufferPointer?,
                value: UnsafeRawBufferPointer?, headers: [(name: String, value: UnsafeRawBufferPointer?)] = [],
                timestamp: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// Where the worker puts a produced record.
public enum PartitionChoice: Sendable, Equatable {
    /// murmur2 of the output key (the Java client's default partitioner).
    case keyHash
    /// The source partition number.
    case preserve
    /// murmur2 of these bytes (`partition: /path`), applied by the worker.
    case hash([UInt8])
}

/// A produced record's key or value: the source record's, or new bytes.
public enum BytesOut: Sendable, Equatable {
    /// Pass the source's bytes through byte for byte.
    case unchanged
    /// New bytes; nil = Kafka null.
    case bytes([UInt8]?)
}

public typealias KeyOut = BytesOut
public typealias ValueOut = BytesOut

public enum HeadersOut: Sendable, Equatable {
    case unchanged
    /// The complete new header list, in order, duplicates kept.
    case replaced([(name: String, value: [UInt8]?)])

    public static func == (a: HeadersOut, b: HeadersOut) -> Bool {
        switch (a, b) {
        case (.unchanged, .unchanged): return true
        case let (.replaced(x), .replaced(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.name == $1.name && $0.value == $1.value }
        default: return false
        }
    }
}

/// What one destination produces for one record. The fields live in one shared box, so a
/// result is copied and dropped with one reference count (a destination that only filters
/// hands out the same prebuilt box for every record it takes). The box is copied on write, and
/// the pipeline refills the box of the previous record's result when nothing else holds it, so
/// a transformed record costs no allocation in the steady state.
public struct OutputRecord: Sendable, Equatable {
    /// Mutated only through `OutputRecord` while uniquely referenced (copy on write).
    final class Box: @unchecked Sendable {
        var topic: String
        var key: KeyOut
        var value: ValueOut
        var headers: HeadersOut
        var timestamp: Int64?
        var partition: PartitionChoice

        init(topic: String, key: KeyOut, value: ValueOut, headers: HeadersOut, timestamp: Int64?, partition: PartitionChoice) {
            self.topic = topic
            self.key = key
            self.value = value
            self.headers = headers
            self.timestamp = timestamp
            self.partition = partition
        }
    }

    private var box: Box

    init(topic: String, key: KeyOut, value: ValueOut, headers: HeadersOut, timestamp: Int64?, partition: PartitionChoice) {
        box = Box(topic: topic, key: key, value: value, headers: headers, timestamp: timestamp, partition: partition)
    }

    private mutating func update(topic: String? = nil, key: KeyOut? = nil, value: ValueOut? = nil, headers: HeadersOut? = nil,
                                 timestamp: Int64?? = nil, partition: PartitionChoice? = nil) {
        guard isKnownUniquelyReferenced(&box) else {
            box = Box(topic: topic ?? box.topic, key: key ?? box.key, value: value ?? box.value, headers: headers ?? box.headers,
                      timestamp: timestamp ?? box.timestamp, partition: partition ?? box.partition)
            return
        }
        if let topic { box.topic = topic }
        if let key { box.key = key }
        if let value { box.value = value }
        if let headers { box.headers = headers }
        if let timestamp { box.timestamp = timestamp }
        if let partition { box.partition = partition }
    }

    /// Refills this record with every field, in place when nothing else holds its box.
    mutating func refill(topic: String, key: KeyOut, value: ValueOut, headers: HeadersOut, timestamp: Int64?, partition: PartitionChoice) {
        update(topic: topic, key: key, value: value, headers: headers, timestamp: .some(timestamp), partition: partition)
    }

    /// The new value's bytes, emptied with their capacity kept, when nothing else holds them
    /// (the value becomes `.unchanged`); else nil. A buffer above 1 MiB is not kept: one large
    /// record must not pin its size per destination.
    mutating func takeValueBuffer() -> [UInt8]? {
        guard isKnownUniquelyReferenced(&box), case .bytes(var held?) = box.value, held.capacity <= 1 << 20 else { return nil }
        box.value = .unchanged
        held.removeAll(keepingCapacity: true)
        return held
    }

    /// The new key's bytes, emptied with their capacity kept, when nothing else holds them (the
    /// key becomes `.unchanged`); else nil. Same rule as `takeValueBuffer`.
    mutating func takeKeyBuffer() -> [UInt8]? {
        guard isKnownUniquelyReferenced(&box), case .bytes(var held?) = box.key, held.capacity <= 1 << 20 else { return nil }
        box.key = .unchanged
        held.removeAll(keepingCapacity: true)
        return held
    }

    /// The output topic, `{source_topic}` resolved.
    public var topic: String {
        get { box.topic }
        set { update(topic: newValue) }
    }
    public var key: KeyOut {
        get { box.key }
        set { update(key: newValue) }
    }
    public var value: ValueOut {
        get { box.value }
        set { update(value: newValue) }
    }
    public var headers: HeadersOut {
        get { box.headers }
        set { update(headers: newValue) }
    }
    /// nil = keep the source timestamp.
    public var timestamp: Int64? {
        get { box.timestamp }
        set { update(timestamp: .some(newValue)) }
    }
    public var partition: PartitionChoice {
        get { box.partition }
        set { update(partition: newValue) }
    }

    public static func == (a: OutputRecord, b: OutputRecord) -> Bool {
        a.box === b.box || (a.topic == b.topic && a.key == b.key && a.value == b.value && a.headers == b.headers
            && a.timestamp == b.timestamp && a.partition == b.partition)
    }
}

/// Why a record could not be processed for a destination; the destination's error policy applies.
public struct RecordError: Error, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The value is not JSON (as far as it was read).
        case malformedJSON = "malformed_json"
        /// A null value where the destination needs a payload.
        case tombstone
        /// A value transform failed.
        case transform
        /// `key_transform` failed.
        case keyTransform = "key_transform"
        /// A header transform failed.
        case headerTransform = "header_transform"
        /// The timestamp operation failed.
        case timestamp
    }
    public var kind: Kind
    public var message: String
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }
}

public enum DestinationResult: Sendable, Equatable {
    /// The destination does not take this record (filter, or content routing).
    case filtered
    case produce(OutputRecord)
    case failed(RecordError)
}
