import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import Testing
@testable import StreamForgeWorker

/// Drives a `WorkerCore` as the worker's loop does, without librdkafka: records with their
/// destination results in, delivery reports in, decisions and committable offsets out. Times
/// are plain numbers (monotonic ms).
final class CoreHarness {
    typealias Partition = KafkaBridge.TopicPartition

    var core: WorkerCore
    var clock: Int64 = 1_000

    init(_ destinations: [DestinationConfig], dlq: DLQConfig = DLQConfig(), delivery: DeliveryGuarantee = .atLeastOnce) {
        let config = StreamForgeConfig(appid: "orders-mirror", bootstrap: "source:9092", input: .topics(["in"]),
                                       delivery: delivery, routing: RoutingConfig(destinations: destinations), dlq: dlq)
        core = WorkerCore(config: config, now: 0)
    }

    static func partition(_ p: Int32) -> Partition { Partition(topic: "in", partition: p) }

    /// The partition's tracker, as the loop finds it for each record.
    func tracker(_ p: Int32) -> UInt32 {
        let key = WorkerCore.SourceKey(topicID: 7, partition: p)
        return core.tracker(for: key) ?? core.track(key, as: Self.partition(p))
    }

    /// A pure-mirror record sent as `copies` copies; returns its delivery id.
    func mirror(partition p: Int32 = 0, offset: Int64, copies: Int = 1) -> UInt64 {
        let tracker = tracker(p)
        return core.mirror(tracker, offset: offset, copies: copies, at: clock)
    }

    static func input(partition p: Int32, offset: Int64,
                      headers: [(name: String, value: UnsafeRawBufferPointer?)] = []) -> InputRecord {
        InputRecord(topic: "in", partition: p, offset: offset, key: nil, value: nil, headers: headers, timestamp: 0)
    }

    /// A language-path record and its destination results; nil when its partition is stopped.
    func record(partition p: Int32 = 0, offset: Int64, _ results: [DestinationResult]) -> RecordDecision? {
        let tracker = tracker(p)
        guard core.admit(tracker) else { return nil }
        return core.record(Self.input(partition: p, offset: offset), in: tracker, results: results, at: clock)
    }

    /// A language-path record its partition takes.
    func take(partition p: Int32 = 0, offset: Int64, _ results: [DestinationResult]) throws -> RecordDecision {
        let decision = record(partition: p, offset: offset, results)
        return try #require(decision, "partition \(p) is stopped")
    }

    /// Every copy of a decision acknowledged by the target.
    func deliverAll(_ decision: RecordDecision) {
        for d in decision.produce { core.delivered(decision.id(of: d), timestamp: 0, wallClockMs: 0) }
        for _ in decision.deadLetter { core.delivered(decision.deadLetterID, timestamp: 0, wallClockMs: 0) }
    }

    func deliver(_ id: UInt64) {
        core.delivered(id, timestamp: 0, wallClockMs: 0)
    }

    /// What an interval commit would send, by partition number.
    func commit() -> [Int32: Int64] {
        let offsets = core.offsetsForIntervalCommit()
        if !offsets.isEmpty { core.committed(offsets) }
        return Dictionary(uniqueKeysWithValues: offsets.map { ($0.topicPartition.partition, $0.offset) })
    }

    /// The copy a destination produces when it takes a record unchanged.
    static let copy: DestinationResult = results(of: [DestinationConfig(output: "out")], value: "{}")[0]

    /// A copy whose value a transform rewrote.
    static let transformed: DestinationResult =
        results(of: [DestinationConfig(output: "out", transform: "CONSTRUCT:id=/id")], value: "{\"id\":1}")[0]

    static func results(of destinations: [DestinationConfig], value: String) -> [DestinationResult] {
        let pipeline = try! Pipeline(routing: RoutingConfig(destinations: destinations))
        return Array(value.utf8).withUnsafeBytes { bytes in
            pipeline.process(InputRecord(topic: "in", partition: 0, offset: 0, key: nil, value: bytes, timestamp: 0))
        }
    }

    static func failed(_ kind: RecordError.Kind = .malformedJSON, _ message: String = "expected a value at 0") -> DestinationResult {
        .failed(RecordError(kind: kind, message: message))
    }
}

@Suite struct WorkerCoreRecordTests {
    typealias H = CoreHarness

    @Test func recordWithAllCopiesDeliveredIsAcked() {
        let h = H([DestinationConfig(output: "a"), DestinationConfig(output: "b")])
        let id = h.mirror(offset: 41, copies: 2)
        h.deliver(OffsetTracker.id(id, destination: 1))
        #expect(h.commit().isEmpty, "one copy of two delivered: the record is not complete")
        let moved = h.core.delivered(OffsetTracker.id(id, destination: 0), timestamp: 0, wallClockMs: 0)
        #expect(moved, "the last copy completes the record")
        #expect(h.commit() == [0: 42], "the next offset to read is committed")
        #expect(h.core.completed == 1)
        #expect(h.core.counters.consumed == 1)
    }

    @Test func atMostOnceMakesARecordCommittableBeforeAnyDelivery() {
        let h = H([DestinationConfig(output: "a")], delivery: .atMostOnce)
        _ = h.mirror(offset: 5)
        #expect(h.commit() == [0: 6])
        let decision = h.record(offset: 6, [H.copy])
        #expect(decision?.produce == [0], "the copy is still produced")
        #expect(h.commit() == [0: 7])
    }

    @Test func filteredDestinationsAreNotWaitedFor() throws {
        let h = H([DestinationConfig(output: "a"), DestinationConfig(output: "b", filter: "/x,==,1")])
        let decision = try h.take(offset: 0, [H.copy, .filtered])
        #expect(decision.produce == [0])
        #expect(decision.filtered == [1])
        h.deliverAll(decision)
        #expect(h.commit() == [0: 1])
        #expect(h.core.counters.filtered == 1)
        #expect(h.core.reportedCounters().filteredBy == ["b": 1])
    }

    @Test func recordNoDestinationTakesIsCommittableAtOnce() throws {
        let h = H([DestinationConfig(output: "a", filter: "/x,==,1")])
        let decision = try h.take(offset: 9, [.filtered])
        #expect(decision.produce.isEmpty)
        #expect(h.commit() == [0: 10])
    }

    @Test func recordErrorUnderDeadLetterPolicyProducesDeadLetter() throws {
        let h = H([DestinationConfig(output: "a"), DestinationConfig(output: "b", transform: "/x", errorPolicy: .dlq)])
        let decision = try h.take(offset: 3, [H.copy, H.failed()])
        #expect(decision.produce == [0])
        #expect(decision.deadLetter == [1])
        #expect(decision.skip.isEmpty && decision.stop == nil)
        #expect(OffsetTracker.destination(of: decision.deadLetterID) == WorkerCore.deadLetterIndex)
        h.deliver(decision.id(of: 0))
        #expect(h.commit().isEmpty, "the record also waits for its dead letter")
        h.deliver(decision.deadLetterID)
        #expect(h.commit() == [0: 4])
        #expect(h.core.counters.dlq == 1)
        #expect(h.core.counters.errorKinds == ["malformed_json": 1])
        #expect(h.core.reportedCounters().produced == ["a": 1, "dlq": 1])
    }

    @Test func deadLettersOfSeveralDestinationsAreEachWaitedFor() throws {
        let h = H([DestinationConfig(output: "a", transform: "/x"), DestinationConfig(output: "b", transform: "/y")])
        let decision = try h.take(offset: 0, [H.failed(), H.failed(.transform, "no /y")])
        #expect(decision.deadLetter == [0, 1])
        h.deliver(decision.deadLetterID)
        #expect(h.commit().isEmpty, "two dead letters were sent, one is acknowledged")
        h.deliver(decision.deadLetterID)
        #expect(h.commit() == [0: 1])
        #expect(h.core.counters.dlq == 2)
    }

    @Test func deadLetterCarriesTheOriginalHeadersThenTheExistingToolsErrorHeaders() {
        let h = H([DestinationConfig(output: "audit-{source_topic}", filter: "/amount,>,10", transform: "/order")])
        let error = RecordError(kind: .malformedJSON, message: "expected ':' at 7")
        let original: [UInt8] = [1, 2]
        let headers = original.withUnsafeBytes { raw in
            h.core.deadLetterHeaders(for: H.input(partition: 3, offset: 1234, headers: [("trace", raw), ("empty", nil)]),
                                     error: error, destination: 0, wallClockMs: 1_700_000_000_123)
        }
        let expected: [(String, String?)] = [
            ("trace", "\u{1}\u{2}"), ("empty", nil),
            ("x-streamforge-error", "malformed_json: expected ':' at 7"),
            ("x-streamforge-error-type", "MessageDeserialization"),
            ("x-streamforge-source-topic", "in"),
            ("x-streamforge-source-partition", "3"),
            ("x-streamforge-source-offset", "1234"),
            ("x-streamforge-timestamp", "2023-11-14T22:13:20.123Z"),
            ("x-streamforge-pipeline", "orders-mirror"),
            ("x-streamforge-destination", "audit-{source_topic}"),
            ("x-streamforge-filter", "/amount,>,10"),
            ("x-streamforge-transform", "/order"),
        ]
        #expect(headers.map(\.name) == expected.map(\.0))
        #expect(headers.map(\.value) == expected.map { $0.1.map { Array($0.utf8) } })
    }

    @Test func deadLetterHeadersFollowTheDeadLetterSettings() {
        let error = RecordError(kind: .transform, message: "no /x")
        let original: [UInt8] = [7]
        func headers(_ dlq: DLQConfig) -> [String] {
            let h = H([DestinationConfig(output: "a", transform: "/x")], dlq: dlq)
            return original.withUnsafeBytes { raw in
                h.core.deadLetterHeaders(for: H.input(partition: 0, offset: 0, headers: [("trace", raw)]), error: error,
                                         destination: 0, wallClockMs: 0).map(\.name)
            }
        }
        #expect(headers(DLQConfig(includeErrorHeaders: false)) == ["trace"])
        let errorOnly = headers(DLQConfig(includeOriginalHeaders: false))
        #expect(errorOnly.first == "x-streamforge-error" && !errorOnly.contains("trace"))
        #expect(!errorOnly.contains("x-streamforge-filter"), "a destination without a filter names none")
    }

    @Test func recordErrorUnderSkipPolicyIsSkippedAndCommitted() throws {
        let h = H([DestinationConfig(output: "a"), DestinationConfig(output: "b", transform: "/x", errorPolicy: .skipAndLog)])
        let decision = try h.take(offset: 0, [H.copy, H.failed(.transform, "no /x")])
        #expect(decision.skip == [1])
        #expect(decision.deadLetter.isEmpty && decision.stop == nil)
        h.deliverAll(decision)
        #expect(h.commit() == [0: 1], "the skipped copy is not waited for")
        #expect(h.core.counters.errorKinds == ["transform": 1])
        #expect(h.core.counters.dlq == 0)
    }

    @Test func stopPolicyStopsPartitionAndHoldsCommit() throws {
        let h = H([DestinationConfig(output: "a", transform: "/x", errorPolicy: .fail)])
        let good = try h.take(offset: 10, [H.transformed])
        let bad = try h.take(offset: 11, [H.failed(.transform, "no /x")])
        let stop = try #require(bad.stop)
        #expect(stop == PartitionStop(partition: H.partition(0), offset: 11, destination: 0, destinationName: "a",
                                      reason: "transform: no /x"))
        h.deliverAll(good)
        h.deliverAll(bad)
        #expect(h.commit() == [0: 11], "committed up to the failed record, never past it")
        #expect(h.core.stoppedPartitions == [H.partition(0)])
        #expect(h.core.failedPartitions == [FailedPartition(topic: "in", partition: 0, offset: 11, destination: "a",
                                                            reason: "transform: no /x")])
        #expect(h.core.fatal == nil, "the worker itself goes on")
    }

    @Test func stoppedPartitionTakesNoMoreRecordsWhileOthersFlow() throws {
        let h = H([DestinationConfig(output: "a", transform: "/x", errorPolicy: .fail)])
        _ = try h.take(partition: 0, offset: 0, [H.failed()])
        let behind = h.record(partition: 0, offset: 1, [H.transformed])
        #expect(behind == nil, "records behind the stop are left alone")
        let other = try h.take(partition: 1, offset: 0, [H.transformed])
        h.deliverAll(other)
        #expect(h.commit() == [1: 1])
        #expect(h.core.counters.consumed == 3, "a record left alone was still read")
    }

    @Test func otherDestinationsStillGetTheirCopiesOfARecordThatStopsThePartition() throws {
        let h = H([DestinationConfig(output: "a"), DestinationConfig(output: "b", transform: "/x", errorPolicy: .fail)])
        let decision = try h.take(offset: 0, [H.copy, H.failed()])
        #expect(decision.produce == [0])
        #expect(decision.stop?.destination == 1)
        h.deliverAll(decision)
        #expect(h.commit().isEmpty)
    }

    @Test func firstFailingDestinationNamesTheStop() throws {
        let h = H([DestinationConfig(output: "a", transform: "/x", errorPolicy: .fail),
                   DestinationConfig(output: "b", transform: "/y", errorPolicy: .fail)])
        let decision = try h.take(offset: 0, [H.failed(.transform, "no /x"), H.failed(.transform, "no /y")])
        #expect(decision.stop?.destinationName == "a")
        #expect(h.core.failedPartitions.count == 1)
        #expect(h.core.counters.errors == 2, "both errors are counted")
    }

    @Test func stopPolicyHoldsTheCommitEvenAtMostOnce() throws {
        let h = H([DestinationConfig(output: "a", transform: "/x", errorPolicy: .fail)], delivery: .atMostOnce)
        _ = try h.take(offset: 0, [H.transformed])
        _ = try h.take(offset: 1, [H.failed()])
        #expect(h.commit() == [0: 1])
    }

    @Test func transformedCopiesAreCounted() throws {
        let h = H([DestinationConfig(output: "a"), DestinationConfig(output: "b", transform: "CONSTRUCT:id=/id")])
        _ = try h.take(offset: 0, [H.copy, H.transformed])
        #expect(h.core.counters.transformed == 1)
    }

    @Test func destinationSetListsItsIndicesInOrder() {
        var set: DestinationSet = [5, 0]
        set.insert(WorkerCore.deadLetterIndex)
        #expect(Array(set) == [0, 5, 63])
        #expect(set.count == 3 && set.contains(63) && !set.contains(1) && !set.contains(64))
    }
}

@Suite struct WorkerCoreDeliveryTests {
    typealias H = CoreHarness

    @Test(arguments: [ErrorPolicy.dlq, .skipAndLog, .fail])
    func failedDeliveryStopsTheWorkerWhateverThePolicy(policy: ErrorPolicy) throws {
        let h = H([DestinationConfig(output: "a", transform: "/x", errorPolicy: policy)])
        let decision = try h.take(offset: 20, [H.transformed])
        let stop = h.core.deliveryFailed(decision.id(of: 0), error: "Broker: Message size too large")
        #expect(stop == WorkerStop(reason: "delivery to a failed: Broker: Message size too large", partition: H.partition(0)))
        #expect(h.core.fatal == stop?.reason)
        #expect(h.commit().isEmpty, "a failed delivery is never committed past")
        #expect(h.core.counters.dlq == 0, "nor dead-lettered")
        #expect(h.core.failedPartitions.map(\.partition) == [0])
        #expect(h.core.counters.errorKinds == ["delivery": 1])
        #expect(h.core.reportedState(.running) == .failed)
    }

    @Test func onlyTheFirstStopIsAnnounced() {
        let h = H([DestinationConfig(output: "a")])
        let a = h.mirror(offset: 0)
        let b = h.mirror(partition: 1, offset: 0)
        #expect(h.core.deliveryFailed(a, error: "first") != nil)
        #expect(h.core.deliveryFailed(b, error: "second") == nil)
        #expect(h.core.fatal == "delivery to a failed: first")
        #expect(h.core.counters.errors == 2)
        #expect(h.core.failedPartitions.map(\.partition) == [0, 1])
    }

    @Test func acknowledgementsAreCountedPerDestinationName() throws {
        let h = H([DestinationConfig(output: "a"), DestinationConfig(output: "b", transform: "/x")])
        let first = try h.take(offset: 0, [H.copy, H.transformed])
        let second = try h.take(offset: 1, [H.copy, H.failed()])
        h.deliverAll(first)
        h.deliverAll(second)
        #expect(h.core.reportedCounters().produced == ["a": 2, "b": 1, "dlq": 1])
    }

    @Test func deliveryLatencyRunsFromTheRecordTimestamp() {
        let h = H([DestinationConfig(output: "a")])
        let id = h.mirror(offset: 0, copies: 1)
        h.core.delivered(id, timestamp: 1_700_000_000_000, wallClockMs: 1_700_000_000_040)
        let untimed = h.mirror(offset: 1, copies: 1)
        h.core.delivered(untimed, timestamp: -1, wallClockMs: 1_700_000_000_040)
        #expect(h.core.counters.latency.count == 1, "a record without a timestamp is not observed")
        #expect(h.core.counters.latency.sumMs == 40)
    }

    @Test func lateReportOfARevokedPartitionIsIgnored() {
        let h = H([DestinationConfig(output: "a")])
        let old = h.mirror(offset: 100)
        _ = h.core.offsetsOnRevoke([H.partition(0)], lost: false)
        h.core.revoked([H.partition(0)])
        h.core.assigned()
        let fresh = h.mirror(offset: 100)
        h.deliver(old)
        #expect(h.commit().isEmpty, "the old assignment's report does not complete the new one's record")
        h.deliver(fresh)
        #expect(h.commit() == [0: 101])
    }
}

@Suite struct WorkerCoreMirrorKeyTests {
    typealias H = CoreHarness

    /// The loop's pure-mirror entry: by source key, nil until the partition is tracked.
    func mirror(_ h: H, partition p: Int32, offset: Int64) -> UInt64 {
        let key = WorkerCore.SourceKey(topicID: 7, partition: p)
        if let id = h.core.mirror(key, offset: offset, copies: 1, at: h.clock) { return id }
        return h.core.mirror(h.core.track(key, as: H.partition(p)), offset: offset, copies: 1, at: h.clock)
    }

    @Test func aSourceKeyIsUnknownUntilTrackedThenFoundForEveryRecord() {
        let h = H([DestinationConfig(output: "a")])
        let key = WorkerCore.SourceKey(topicID: 7, partition: 3)
        #expect(h.core.mirror(key, offset: 0, copies: 1, at: 0) == nil, "an untracked partition takes no record")
        #expect(h.core.counters.consumed == 0)
        let ids = (0..<3).map { mirror(h, partition: 3, offset: Int64(10 + $0)) }
        #expect(h.core.counters.consumed == 3)
        for id in ids { h.deliver(id) }
        #expect(h.commit() == [3: 13])
    }

    @Test func recordsInterleavedAcrossPartitionsKeepTheirOwnRuns() {
        let h = H([DestinationConfig(output: "a")])
        var ids: [Int32: [UInt64]] = [:]
        for offset in 0..<4 {
            for p: Int32 in [0, 1, 0, 2] { ids[p, default: []].append(mirror(h, partition: p, offset: Int64(offset * 10) + Int64(p))) }
        }
        for id in ids[1]! { h.deliver(id) }
        for id in ids[2]!.dropLast() { h.deliver(id) }
        #expect(h.commit() == [1: 32, 2: 23])
    }

    @Test func aRevokedKeyMustBeTrackedAgainAndItsLateReportsAreIgnored() {
        let h = H([DestinationConfig(output: "a")])
        let old = mirror(h, partition: 0, offset: 100)
        _ = h.core.offsetsOnRevoke([H.partition(0)], lost: false)
        h.core.revoked([H.partition(0)])
        h.core.assigned()
        let key = WorkerCore.SourceKey(topicID: 7, partition: 0)
        #expect(h.core.mirror(key, offset: 100, copies: 1, at: 0) == nil, "the last key looked up is forgotten on revoke")
        let fresh = mirror(h, partition: 0, offset: 100)
        h.deliver(old)
        #expect(h.commit().isEmpty)
        h.deliver(fresh)
        #expect(h.commit() == [0: 101])
    }
}

@Suite struct WorkerCoreCommitTests {
    typealias H = CoreHarness

    @Test func offsetsCommitOnlyOverUnbrokenRun() {
        let h = H([DestinationConfig(output: "a")])
        let ids = (0..<5).map { h.mirror(offset: Int64(50 + $0)) }
        for i in [4, 2, 3] { h.deliver(ids[i]) }
        #expect(h.commit().isEmpty, "offset 50 is not delivered: nothing after it may be committed")
        h.deliver(ids[0])
        #expect(h.commit() == [0: 51])
        h.deliver(ids[1])
        #expect(h.commit() == [0: 55], "the run is unbroken up to the last record")
    }

    @Test func intervalCommitSendsWhatMovedAndEveryTenthTimeEverything() {
        let h = H([DestinationConfig(output: "a")])
        h.deliver(h.mirror(offset: 0))
        #expect(h.commit() == [0: 1])
        for _ in 0..<8 { #expect(h.commit().isEmpty, "nothing moved") }
        #expect(h.commit() == [0: 1], "the tenth commit sends every committable offset again")
        #expect(h.core.offsetsForCommit().isEmpty, "a drain's commit sends only what moved")
    }

    @Test func revokedPartitionsCommitTheirDeliveredRunOnly() {
        let h = H([DestinationConfig(output: "a")])
        h.deliver(h.mirror(partition: 0, offset: 7))
        _ = h.mirror(partition: 0, offset: 8)
        h.deliver(h.mirror(partition: 1, offset: 3))
        let offsets = h.core.offsetsOnRevoke([H.partition(0)], lost: false)
        #expect(offsets == [TopicPartitionOffset(H.partition(0), offset: 8)])
    }

    @Test func lostPartitionsCommitNothing() {
        let h = H([DestinationConfig(output: "a")])
        h.deliver(h.mirror(offset: 7))
        #expect(h.core.offsetsOnRevoke([H.partition(0)], lost: true) == nil)
        h.core.revoked([H.partition(0)])
        #expect(h.commit().isEmpty)
        #expect(h.core.inFlight() == 0)
    }

    @Test func revokeForgetsAStoppedPartition() throws {
        let h = H([DestinationConfig(output: "a", transform: "/x", errorPolicy: .fail)])
        _ = try h.take(offset: 4, [H.failed()])
        h.core.revoked([H.partition(0)])
        #expect(h.core.stoppedPartitions.isEmpty)
        #expect(h.core.failedPartitions.isEmpty)
        #expect(h.core.reportedState(.running) == .running)
        h.core.assigned()
        let again = h.record(offset: 4, [H.transformed])
        #expect(again != nil, "given back, the partition takes records again")
    }

    @Test func settledWaitsForEveryRecordButTheOnesStoppedByPolicy() throws {
        let h = H([DestinationConfig(output: "a", transform: "/x", errorPolicy: .fail)])
        let good = try h.take(partition: 0, offset: 0, [H.transformed])
        _ = try h.take(partition: 0, offset: 1, [H.failed()])
        let other = try h.take(partition: 1, offset: 0, [H.transformed])
        #expect(!h.core.settled(nil))
        h.deliverAll(good)
        #expect(h.core.settled([H.partition(0)]), "only the stopped record is left in partition 0")
        #expect(!h.core.settled(nil))
        h.deliverAll(other)
        #expect(h.core.settled(nil))
    }

    @Test func committedOffsetsAreKeptForSnapshotsUntilRevoke() {
        let h = H([DestinationConfig(output: "a")])
        h.deliver(h.mirror(offset: 30))
        _ = h.commit()
        #expect(h.core.committedOffsets == [H.partition(0): 31])
        #expect(h.core.counters.committed == 1)
        h.core.revoked([H.partition(0)])
        #expect(h.core.committedOffsets.isEmpty)
    }
}

@Suite struct WorkerCoreHealthTests {
    typealias H = CoreHarness

    @Test func deliveriesStallWhenNothingIsAcknowledgedForTheLimitAndResumeOnce() {
        let h = H([DestinationConfig(output: "a")])
        h.clock = 1_000
        let id = h.mirror(offset: 0)
        #expect(h.core.checkStalled(now: 5_000, limitMs: 10_000) == nil)
        #expect(h.core.checkStalled(now: 11_000, limitMs: 10_000) == .stalled(waitingMs: 10_000))
        #expect(h.core.checkStalled(now: 12_000, limitMs: 10_000) == nil, "said once")
        #expect(h.core.reportedState(.running) == .stalled)
        #expect(h.core.reportedState(.draining) == .draining)
        h.deliver(id)
        h.core.reportsRead(at: 13_000)
        #expect(h.core.checkStalled(now: 13_000, limitMs: 10_000) == .resumed(stalledForMs: 12_000))
        #expect(h.core.reportedState(.running) == .running)
        #expect(h.core.lastAckAge(now: 13_500) == 500)
    }

    @Test func aPartitionStoppedByPolicyDoesNotStallDeliveries() throws {
        let h = H([DestinationConfig(output: "a", transform: "/x", errorPolicy: .fail)])
        _ = try h.take(offset: 0, [H.failed()])
        #expect(h.core.checkStalled(now: 60_000, limitMs: 10_000) == nil)
        #expect(h.core.inFlight() == 1)
    }

    @Test func nothingHeardFromTheTargetYetHasNoAckAge() {
        let h = H([DestinationConfig(output: "a")])
        #expect(h.core.lastAckAge(now: 5_000) == nil)
    }
}

@Suite struct WorkerUtilityTests {
    @Test func rateLimitedLogAdmitsOncePerIntervalAndCountsWhatItSuppressed() {
        var log = RateLimitedLog(intervalMs: 10_000)
        let admitted = [0, 1_000, 9_999, 10_000, 25_000].map { log.admit(now: $0) }
        #expect(admitted == [0, nil, nil, 2, 0], "one line per interval, which says how many were left out")
    }

    @Test func rfc3339FormatsWallClockMillisecondsInUTC() {
        #expect(rfc3339(milliseconds: 1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
        #expect(rfc3339(milliseconds: 5) == "1970-01-01T00:00:00.005Z")
        #expect(rfc3339(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }
}
