import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage

// The values `WorkerCore` hands back to the loop. All are plain values: a decision for a
// record costs no allocation unless it stops a partition.

/// A set of destination indices (0..<64, the indices a delivery id can carry), as one word.
struct DestinationSet: Hashable, Sendable, Sequence, ExpressibleByArrayLiteral, CustomStringConvertible {
    private(set) var bits: UInt64 = 0

    init() {}

    init(arrayLiteral elements: Int...) {
        for e in elements { insert(e) }
    }

    @inline(__always)
    mutating func insert(_ index: Int) {
        bits |= 1 << UInt64(index)
    }

    @inline(__always)
    func contains(_ index: Int) -> Bool {
        index >= 0 && index < 64 && bits & (1 << UInt64(index)) != 0
    }

    var isEmpty: Bool { bits == 0 }
    var count: Int { bits.nonzeroBitCount }

    struct Iterator: IteratorProtocol {
        var rest: UInt64
        mutating func next() -> Int? {
            guard rest != 0 else { return nil }
            let index = rest.trailingZeroBitCount
            rest &= rest &- 1
            return index
        }
    }

    func makeIterator() -> Iterator { Iterator(rest: bits) }

    var description: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}

/// What happens to one record on the language path, decided from its destination results.
struct RecordDecision: Hashable, Sendable {
    /// The record's delivery id: each copy's is `id(of:)`, the dead letters' `deadLetterID`.
    var base: UInt64 = 0
    /// Destinations that produce their copy.
    var produce = DestinationSet()
    /// Destinations whose error sends the original record to the dead-letter topic.
    var deadLetter = DestinationSet()
    /// Destinations whose error is skipped (`skip_and_log`): counted and logged.
    var skip = DestinationSet()
    /// Destinations that do not take the record (filter, content routing).
    var filtered = DestinationSet()
    /// Set when a destination with `error_policy: fail` could not process the record: its
    /// partition stops here.
    var stop: PartitionStop?

    /// The delivery id of one destination's copy.
    @inline(__always)
    func id(of destination: Int) -> UInt64 { OffsetTracker.id(base, destination: destination) }

    /// The delivery id of the record's dead letters (one index for all of them).
    var deadLetterID: UInt64 { OffsetTracker.id(base, destination: WorkerCore.deadLetterIndex) }
}

/// A partition stopped at a record by `error_policy: fail`: it takes nothing more, and nothing
/// at or after the record is committed, until a fixed configuration is loaded.
struct PartitionStop: Hashable, Sendable {
    var partition: TopicPartition
    var offset: Int64
    /// The first destination whose `fail` policy applied.
    var destination: Int
    var destinationName: String
    /// `<error kind>: <message>`.
    var reason: String
}

/// The worker stops: it consumes nothing more, commits what was delivered, and exits 75 so
/// the supervisor restarts it from the last commit.
struct WorkerStop: Hashable, Sendable {
    var reason: String
    /// The partition of the record that could not be delivered, when known.
    var partition: TopicPartition?
}

/// A change of the deliveries' health, to log once when it happens.
enum StallChange: Hashable, Sendable {
    /// Records wait and the target acknowledged none of them for `waitingMs`.
    case stalled(waitingMs: Int64)
    /// Deliveries move again after `stalledForMs`.
    case resumed(stalledForMs: Int64)
}
