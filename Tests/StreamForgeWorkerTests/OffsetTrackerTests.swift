import KafkaBridge
import StreamForgeWorker
import Testing

@Suite struct OffsetTrackerTests {
    let p0 = KafkaBridge.TopicPartition(topic: "t", partition: 0)
    let p1 = KafkaBridge.TopicPartition(topic: "t", partition: 1)

    @Test func storesOffsetAfterInOrderAcks() {
        var t = OffsetTracker()
        let tr = t.tracker(for: p0)
        let a = t.append(tracker: tr, offset: 10, acks: 1)
        let b = t.append(tracker: tr, offset: 11, acks: 1)
        #expect(t.takeStorable().isEmpty)
        t.ack(a)
        #expect(t.takeStorable() == [TopicPartitionOffset(p0, offset: 11)])
        t.ack(b)
        #expect(t.takeStorable() == [TopicPartitionOffset(p0, offset: 12)])
        #expect(t.inFlight() == 0)
        #expect(t.completed == 2)
    }

    @Test func outOfOrderAcksNeverSkipAnUnacknowledgedRecord() {
        var t = OffsetTracker()
        let tr = t.tracker(for: p0)
        let ids = (100..<105).map { t.append(tracker: tr, offset: Int64($0), acks: 1) }
        t.ack(ids[4]); t.ack(ids[2]); t.ack(ids[3])
        #expect(t.takeStorable().isEmpty, "offset 100 is not acknowledged: nothing may be stored")
        t.ack(ids[1])
        #expect(t.takeStorable().isEmpty)
        t.ack(ids[0])
        #expect(t.takeStorable() == [TopicPartitionOffset(p0, offset: 105)])
    }

    @Test func recordNeedsEveryDestination() {
        var t = OffsetTracker()
        let tr = t.tracker(for: p0)
        let base = t.append(tracker: tr, offset: 7, acks: 3)
        t.ack(OffsetTracker.id(base, destination: 2))
        t.ack(OffsetTracker.id(base, destination: 0))
        #expect(t.takeStorable().isEmpty)
        #expect(OffsetTracker.destination(of: OffsetTracker.id(base, destination: 2)) == 2)
        t.ack(OffsetTracker.id(base, destination: 1))
        #expect(t.takeStorable() == [TopicPartitionOffset(p0, offset: 8)])
    }

    @Test func filteredRecordsAdvanceWithTheirNeighbours() {
        var t = OffsetTracker()
        let tr = t.tracker(for: p0)
        let a = t.append(tracker: tr, offset: 0, acks: 1)
        _ = t.append(tracker: tr, offset: 1, acks: 0)
        #expect(t.takeStorable().isEmpty)
        t.ack(a)
        #expect(t.takeStorable() == [TopicPartitionOffset(p0, offset: 2)])
    }

    @Test func partitionsAreIndependent() {
        var t = OffsetTracker()
        let a = t.append(tracker: t.tracker(for: p0), offset: 5, acks: 1)
        let b = t.append(tracker: t.tracker(for: p1), offset: 9, acks: 1)
        t.ack(b)
        #expect(t.takeStorable() == [TopicPartitionOffset(p1, offset: 10)])
        #expect(t.inFlight([p0]) == 1)
        t.ack(a)
        #expect(t.takeStorable() == [TopicPartitionOffset(p0, offset: 6)])
    }

    @Test func reportsAfterRevokeAreIgnored() {
        var t = OffsetTracker()
        let old = t.append(tracker: t.tracker(for: p0), offset: 3, acks: 1)
        t.remove([p0])
        let fresh = t.append(tracker: t.tracker(for: p0), offset: 50, acks: 1)
        t.ack(old)
        #expect(t.takeStorable().isEmpty, "a late report from the old assignment must not complete the new one")
        t.ack(fresh)
        #expect(t.takeStorable() == [TopicPartitionOffset(p0, offset: 51)])
    }

    @Test func manyRecordsWithShuffledAcksEndAtTheLastOffset() {
        var t = OffsetTracker()
        let tr = t.tracker(for: p0)
        var ids = (0..<10_000).map { t.append(tracker: tr, offset: Int64($0), acks: 1) }
        var rng = SystemRandomNumberGenerator()
        ids.shuffle(using: &rng)
        var lastStored: Int64 = 0
        for (i, id) in ids.enumerated() {
            t.ack(id)
            if i % 97 == 0, let s = t.takeStorable().first {
                #expect(s.offset >= lastStored)
                lastStored = s.offset
            }
        }
        #expect(t.allStorable() == [TopicPartitionOffset(p0, offset: 10_000)])
        #expect(t.completed == 10_000)
    }
}

@Suite struct PartitionProgressTests {
    @Test func sequenceNumbersWrapWithoutStallingThePartition() {
        // 2^38 records is about a month at 100k records/s on one partition.
        var p = PartitionProgress(firstSequence: (1 << 38) - 3)
        var seqs: [UInt64] = []
        for offset in 0..<8 { seqs.append(p.append(offset: Int64(offset), acks: 1)) }
        #expect(seqs.contains(0), "numbering wrapped")
        #expect(seqs.allSatisfy { $0 < (1 << 38) })
        for seq in seqs.reversed() { p.ack(seq: seq) }
        #expect(p.storable == 8)
        #expect(p.inFlight == 0)
        let late = p.ack(seq: seqs[0])
        #expect(!late, "a report for a passed record is ignored")
    }
}

@Suite struct OffsetTrackerVisibilityTests {
    let p0 = KafkaBridge.TopicPartition(topic: "t", partition: 0)
    let p1 = KafkaBridge.TopicPartition(topic: "t", partition: 1)

    @Test func theOldestUndeliveredRecordAndWhereARestartWouldResume() {
        var t = OffsetTracker()
        let a = t.append(tracker: t.tracker(for: p0), offset: 5, acks: 1, at: 1000)
        _ = t.append(tracker: t.tracker(for: p0), offset: 6, acks: 1, at: 1100)
        _ = t.append(tracker: t.tracker(for: p1), offset: 40, acks: 1, at: 1050)
        #expect(t.firstUndelivered() == [p0: 5, p1: 40])
        #expect(t.oldestInFlightConsumedAt() == 1000)
        #expect(t.oldestInFlightConsumedAt(excluding: [p0]) == 1050, "a partition stopped on purpose is left out")
        t.ack(a)
        #expect(t.firstUndelivered() == [p0: 6, p1: 40])
        #expect(t.oldestInFlightConsumedAt() == 1050)
    }

    @Test func markAllDirtySendsEveryStorableOffsetAgain() {
        var t = OffsetTracker()
        t.ack(t.append(tracker: t.tracker(for: p0), offset: 7, acks: 1))
        _ = t.append(tracker: t.tracker(for: p1), offset: 3, acks: 1)  // nothing storable yet
        #expect(t.takeStorable() == [TopicPartitionOffset(p0, offset: 8)])
        #expect(t.takeStorable().isEmpty, "taken once")
        t.markAllDirty()
        #expect(t.takeStorable() == [TopicPartitionOffset(p0, offset: 8)], "again, and only what is storable")
    }
}
