public import KafkaBridge

/// In-flight records of one assigned partition, in consume order. A record is complete when
/// every destination acknowledged it; the storable offset advances only over a prefix of
/// complete records, so acknowledgements may arrive in any order.
public struct PartitionProgress: Sendable {
    private var offsets: [Int64] = []
    private var pending: [Int32] = []
    /// When each record was consumed (monotonic ms), for the age of the oldest undelivered one.
    private var consumedAt: [Int64] = []
    private var head = 0
    /// Sequence number of `offsets[head]`, modulo 2^38 (the bits a delivery id has for it):
    /// a partition may see any number of records in one process lifetime.
    private var headSeq: UInt64 = 0
    static let sequenceMask: UInt64 = (1 << 38) - 1
    /// The next offset to commit (last complete record + 1), once any record completed.
    public private(set) var storable: Int64?

    public init() {}

    /// Starts numbering at `firstSequence` (tests of the wrap-around).
    public init(firstSequence: UInt64) {
        headSeq = firstSequence & Self.sequenceMask
    }

    /// Records appended and not yet complete-and-passed.
    public var inFlight: Int { offsets.count - head }

    /// The oldest record not complete yet: its offset and when it was consumed.
    public var oldestInFlight: (offset: Int64, consumedAt: Int64)? {
        head < offsets.count ? (offsets[head], consumedAt[head]) : nil
    }

    /// Adds a consumed record awaiting `acks` acknowledgements; returns its sequence number.
    /// `at` is when it was consumed (monotonic milliseconds).
    public mutating func append(offset: Int64, acks: Int, at: Int64 = 0) -> UInt64 {
        let seq = (headSeq &+ UInt64(offsets.count - head)) & Self.sequenceMask
        offsets.append(offset)
        pending.append(Int32(acks))
        consumedAt.append(at)
        if acks == 0 { advance() }
        return seq
    }

    /// One acknowledgement of record `seq`; returns true if the storable offset moved.
    @discardableResult
    public mutating func ack(seq: UInt64) -> Bool {
        // Distance from the head, modulo 2^38: a report for a record already passed comes out
        // far beyond the in-flight window and is ignored.
        let distance = (seq &- headSeq) & Self.sequenceMask
        guard distance < UInt64(offsets.count - head) else { return false }
        let index = head + Int(distance)
        guard pending[index] > 0 else { return false }
        pending[index] -= 1
        guard index == head, pending[index] == 0 else { return false }
        advance()
        return true
    }

    /// Records completed (every acknowledgement in, all earlier records complete).
    public private(set) var completed: UInt64 = 0

    private mutating func advance() {
        var moved = false
        while head < offsets.count && pending[head] == 0 {
            storable = offsets[head] + 1
            head += 1
            headSeq = (headSeq &+ 1) & Self.sequenceMask
            completed += 1
            moved = true
        }
        if moved && head > 1024 && head * 2 > offsets.count {
            offsets.removeFirst(head)
            pending.removeFirst(head)
            consumedAt.removeFirst(head)
            head = 0
        }
    }
}

/// Progress of every assigned partition, addressed by a 64-bit delivery id that travels as
/// librdkafka's per-message opaque: 20 bits of tracker, 6 bits of destination index, 38 bits
/// of sequence.
public struct OffsetTracker: Sendable {
    struct Entry: Sendable {
        var partition: TopicPartition
        var progress = PartitionProgress()
        var dirty = false
    }

    private var entries: [UInt32: Entry] = [:]
    private var byPartition: [TopicPartition: UInt32] = [:]
    private var nextTracker: UInt32 = 1
    static let seqBits: UInt64 = 38
    static let destinationShift: UInt64 = 38
    static let trackerShift: UInt64 = 44
    /// Destinations a record can fan out to (the id has 6 bits for the index).
    public static let maxDestinations = 64
    /// Records completed in partitions no longer tracked.
    private var completedBefore: UInt64 = 0

    /// Records completed since the start.
    public var completed: UInt64 {
        entries.values.reduce(completedBefore) { $0 + $1.progress.completed }
    }

    /// The destination index carried in a delivery id.
    public static func destination(of id: UInt64) -> Int { Int((id >> destinationShift) & 0x3f) }

    /// The delivery id of one destination's copy of a record.
    public static func id(_ base: UInt64, destination: Int) -> UInt64 {
        precondition(destination >= 0 && destination < maxDestinations, "destination index out of range")
        return base | (UInt64(destination) << destinationShift)
    }

    public init() {}

    /// The tracker of a partition, created on first use (a fresh one after a revoke).
    public mutating func tracker(for partition: TopicPartition) -> UInt32 {
        if let id = byPartition[partition] { return id }
        let id = nextTracker
        nextTracker = nextTracker == (1 << 20) - 1 ? 1 : nextTracker + 1
        entries[id] = Entry(partition: partition)
        byPartition[partition] = id
        return id
    }

    /// Adds a record consumed at `at` (monotonic ms); returns its delivery id (destination 0;
    /// see `id(_:destination:)`).
    public mutating func append(tracker: UInt32, offset: Int64, acks: Int, at: Int64 = 0) -> UInt64 {
        // One lookup, and the entry is changed in place (per record: no copy of its arrays).
        let index = entries.index(forKey: tracker)!
        let seq = entries.values[index].progress.append(offset: offset, acks: acks, at: at)
        if acks == 0 { entries.values[index].dirty = true }
        return (UInt64(tracker) << Self.trackerShift) | seq
    }

    /// One acknowledgement; returns true if its partition's storable offset moved. Reports for
    /// a partition no longer tracked (revoked) are ignored.
    @discardableResult
    public mutating func ack(_ id: UInt64) -> Bool {
        let tracker = UInt32(truncatingIfNeeded: id >> Self.trackerShift)
        let seq = id & ((1 << Self.seqBits) - 1)
        guard let index = entries.index(forKey: tracker) else { return false }
        guard entries.values[index].progress.ack(seq: seq) else { return false }
        entries.values[index].dirty = true
        return true
    }

    /// The partition a delivery id belongs to, if still tracked.
    public func partition(of id: UInt64) -> TopicPartition? {
        entries[UInt32(truncatingIfNeeded: id >> Self.trackerShift)]?.partition
    }

    /// Offsets that moved since the last call (next offset to read, as Kafka commits them).
    public mutating func takeStorable() -> [TopicPartitionOffset] {
        var result: [TopicPartitionOffset] = []
        for (id, entry) in entries where entry.dirty {
            if let offset = entry.progress.storable { result.append(TopicPartitionOffset(entry.partition, offset: offset)) }
            entries[id]!.dirty = false
        }
        return result
    }

    /// Every partition's storable offset (for a final commit).
    public func allStorable(_ partitions: [TopicPartition]? = nil) -> [TopicPartitionOffset] {
        entries.values.compactMap { entry in
            guard let offset = entry.progress.storable else { return nil }
            if let partitions, !partitions.contains(entry.partition) { return nil }
            return TopicPartitionOffset(entry.partition, offset: offset)
        }
    }

    /// The offset of each partition's oldest undelivered record (where a restart would
    /// resume reading).
    public func firstUndelivered() -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for entry in entries.values {
            if let oldest = entry.progress.oldestInFlight { result[entry.partition] = oldest.offset }
        }
        return result
    }

    /// When the oldest undelivered record of any partition was consumed (monotonic ms),
    /// leaving out `excluding` (partitions stopped on purpose).
    public func oldestInFlightConsumedAt(excluding: Set<TopicPartition> = []) -> Int64? {
        entries.values.compactMap { excluding.contains($0.partition) ? nil : $0.progress.oldestInFlight?.consumedAt }.min()
    }

    /// Marks every partition with a storable offset for the next `takeStorable`, so that a
    /// commit that failed unseen (asynchronous, during a rebalance) is sent again.
    public mutating func markAllDirty() {
        for id in entries.keys where entries[id]!.progress.storable != nil { entries[id]!.dirty = true }
    }

    public func inFlight(_ partitions: [TopicPartition]? = nil) -> Int {
        entries.values.reduce(0) { sum, entry in
            if let partitions, !partitions.contains(entry.partition) { return sum }
            return sum + entry.progress.inFlight
        }
    }

    /// Forgets partitions (revoked or lost): their late reports are ignored.
    public mutating func remove(_ partitions: [TopicPartition]) {
        for partition in partitions {
            if let id = byPartition.removeValue(forKey: partition), let entry = entries.removeValue(forKey: id) {
                completedBefore += entry.progress.completed
            }
        }
    }
}
