import CRdKafka

/// Consumed records kept alive while the producer sends copies straight from their buffers
/// (zero copy): one reference for the loop that handles a record, one per copy queued. The
/// record is destroyed when its last reference goes (after its last copy's delivery report, or
/// when the loop is done with a record it sent nowhere), exactly once. Slots are reused: no
/// allocation per record once the table has grown to the records in flight.
final class MessageKeeper {
    /// One stored property, so that each operation is one exclusive access.
    private var table = Table()

    struct Table {
        var messages: [UnsafeMutablePointer<rd_kafka_message_t>?] = []
        var refs: [Int32] = []
        var free: [Int32] = []
        var count = 0

        @inline(__always)
        mutating func enter(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> Int32 {
            count += 1
            if let slot = free.popLast() {
                messages[Int(slot)] = message
                refs[Int(slot)] = 1
                return slot
            }
            messages.append(message)
            refs.append(1)
            return Int32(messages.count - 1)
        }

        /// The record to destroy when this was its last reference.
        @inline(__always)
        mutating func release(_ slot: Int32) -> UnsafeMutablePointer<rd_kafka_message_t>? {
            let i = Int(slot)
            precondition(refs[i] > 0, "release of a released record")
            refs[i] -= 1
            guard refs[i] == 0 else { return nil }
            let message = messages[i]
            messages[i] = nil
            free.append(slot)
            count -= 1
            return message
        }
    }

    /// Records alive here.
    var count: Int { table.count }

    /// Takes over `message` with one reference; returns its slot.
    @inline(__always)
    func enter(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> Int32 {
        table.enter(message)
    }

    @inline(__always)
    func retain(_ slot: Int32) {
        precondition(table.refs[Int(slot)] > 0, "retain of a released record")
        table.refs[Int(slot)] += 1
    }

    /// Drops one reference; the last one destroys the record.
    @inline(__always)
    func release(_ slot: Int32) {
        if let message = table.release(slot) { rd_kafka_message_destroy(message) }
    }

    /// Destroys every record still kept, once nothing can read their buffers any more (the
    /// producer is destroyed).
    func destroyAll() {
        for i in table.messages.indices where table.refs[i] > 0 {
            rd_kafka_message_destroy(table.messages[i])
            table.messages[i] = nil
            table.refs[i] = 0
        }
        table.count = 0
    }
}
