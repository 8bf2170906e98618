import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

@Suite struct DryRunTests {
    static let routing = RoutingConfig(destinations: [
        DestinationConfig(output: "premium", filter: "/amount,>,100", transform: "CONSTRUCT:id=/id:amount=/amount",
                          keyTransform: "/id", headers: [(name: "x-src", value: "sf")]),
        DestinationConfig(output: "calc", transform: "ARITHMETIC:DIV,/amount,/n", errorPolicy: .skipAndLog),
        DestinationConfig(output: "{source_topic}.recent", filter: "TIMESTAMP_AGE:<,300", partition: .preserve),
        DestinationConfig(output: "premium", filter: "/id,==,o1", partition: .field("/id")),
    ])

    func outcomes(_ lines: [String], defaults: DryRunRecord.Defaults = .init(topic: "orders", timestamp: CacheStore.nowMs()),
                  partitions: Int32? = 6) throws -> (DryRun, [RecordOutcome]) {
        let dryRun = try DryRun(routing: Self.routing, deadLetterTopic: "dead", defaults: defaults, partitionCount: { _ in partitions })
        let outcomes = lines.enumerated().compactMap { dryRun.run(line: $1, lineNumber: $0 + 1) }
        return (dryRun, outcomes)
    }

    func member(_ v: JSONValue?, _ name: String) -> JSONValue? {
        guard case .object(let ms)? = v else { return nil }
        return ms.first { $0.key == name }?.value
    }

    @Test func jsonGivesOneObjectPerRecordWithAMemberPerDestination() throws {
        let (dryRun, results) = try outcomes([
            #"{"value":{"id":"o1","amount":150,"n":0},"key":"k1","headers":[["h","1"]],"timestamp":5}"#,
            "",
            "# a comment",
            #"{"id":"o2","amount":5,"n":5}"#,
        ])
        #expect(dryRun.names == ["premium", "calc", "{source_topic}.recent", "premium#3"])
        #expect(results.map(\.line) == [1, 4])
        let first = try JSONValue.parse(DryRunReport.json(results[0], names: dryRun.names))
        #expect(member(first, "record") == .number("1"))
        #expect(member(member(first, "input"), "topic") == .string("orders"))
        let d = member(first, "destinations")
        let premium = member(d, "premium")
        #expect(member(premium, "topic") == .string("premium"))
        #expect(member(premium, "key") == .string("o1"))
        #expect(member(premium, "value") == (try JSONValue.parse(#"{"id":"o1","amount":150}"#)))
        #expect(member(premium, "headers") == (try JSONValue.parse(#"[["h","1"],["x-src","sf"]]"#)))
        #expect(member(premium, "timestamp") == .number("5"))
        #expect(member(premium, "partition") == .number("\(Murmur2.partition(forKey: Array("o1".utf8), partitionCount: 6))"))
        let calc = member(d, "calc")
        #expect(member(calc, "error") == .string("ARITHMETIC: division by zero"))
        #expect(member(calc, "kind") == .string("transform"))
        #expect(member(calc, "policy") == .string("skip_and_log"))
        // Timestamp 5 is old: TIMESTAMP_AGE drops it.
        #expect(member(d, "{source_topic}.recent") == .object([JSONMember(key: "filtered", value: .bool(true))]))
        #expect(member(member(d, "premium#3"), "partition")
                    == .number("\(Murmur2.partition(forKey: Array("o1".utf8), partitionCount: 6))"))
        // The second record: a bare value, read with the defaults (now, so TIMESTAMP_AGE passes).
        let second = try JSONValue.parse(DryRunReport.json(results[1], names: dryRun.names))
        let recent = member(member(second, "destinations"), "{source_topic}.recent")
        #expect(member(recent, "topic") == .string("orders.recent"))
        #expect(member(recent, "partition") == .number("0"))
        #expect(member(recent, "value") == (try JSONValue.parse(#"{"id":"o2","amount":5,"n":5}"#)))
        #expect(member(member(member(second, "destinations"), "calc"), "value") == .number("1"))
    }

    @Test func partitionsFollowTheWorkersPartitioner() throws {
        let key = #"{"value":{"id":"o1","amount":150,"n":1},"key":"k","partition":4}"#
        for count: Int32 in [1, 3, 12] {
            let (_, results) = try outcomes([key], partitions: count)
            guard case .produced(let premium) = results[0].destinations[0], case .produced(let byField) = results[0].destinations[3],
                  case .produced(let calc) = results[0].destinations[1], case .produced(let kept) = results[0].destinations[2] else {
                Issue.record("expected records"); return
            }
            // premium: key_transform /id gives key "o1"; calc keeps the source key "k".
            #expect(premium.partition == Murmur2.partition(forKey: Array("o1".utf8), partitionCount: count))
            #expect(calc.partition == Murmur2.partition(forKey: Array("k".utf8), partitionCount: count))
            #expect(byField.partition == Murmur2.partition(forKey: Array("o1".utf8), partitionCount: count))
            #expect(kept.partition == 4)
        }
        // Unknown count: no number, and the reason.
        let (_, unknown) = try outcomes([key], partitions: nil)
        guard case .produced(let p) = unknown[0].destinations[0] else { Issue.record("expected a record"); return }
        #expect(p.partition == nil)
        #expect(p.partitionNote.contains("pass --partitions N"))
        // A null key: the producer picks at random.
        let (_, nullKey) = try outcomes([#"{"id":"x","amount":1,"n":1}"#])
        guard case .produced(let c) = nullKey[0].destinations[1] else { Issue.record("expected a record"); return }
        #expect(c.partition == nil)
        #expect(c.partitionNote.contains("random"))
    }

    @Test func defaultsMakeASampleBehaveLikeALiveRecordAndEachLineOverridesThem() throws {
        let config = try ConfigLoader.parse(text: "appid: a\nbootstrap: b:9092\ninput: orders,payments\noutput: \"{source_topic}.copy\"\n",
                                            path: "c.yaml", environment: [:])
        let defaults = DryRunRecord.Defaults(config: config, now: 1_700_000_000_000)
        #expect(defaults.topic == "orders")
        #expect(defaults.partition == 0)
        let bare = try DryRunRecord(line: #"{"a":1}"#, defaults: defaults)
        #expect(bare.topic == "orders")
        #expect(bare.timestamp == 1_700_000_000_000)
        let own = try DryRunRecord(line: #"{"value":{"a":1},"topic":"payments","partition":2,"timestamp":7,"offset":9}"#, defaults: defaults)
        #expect((own.topic, own.partition, own.timestamp, own.offset) == ("payments", 2, 7, 9))
        // A regular-expression input has no first topic: the sample must name one.
        let pattern = try ConfigLoader.parse(text: "appid: a\nbootstrap: b:9092\ninput: ^orders\\..*\noutput: x\n", path: "c.yaml", environment: [:])
        let noTopic = DryRunRecord.Defaults(config: pattern, now: 0)
        #expect(throws: DryRunRecord.ReadError.self) { try DryRunRecord(line: #"{"a":1}"#, defaults: noTopic) }
        #expect(try DryRunRecord(line: #"{"value":1,"topic":"orders.eu"}"#, defaults: noTopic).topic == "orders.eu")
    }

    @Test func envelopeMembersAreChecked() {
        func problem(_ line: String) -> DryRunRecord.ReadError? {
            do { _ = try DryRunRecord(line: line); return nil } catch { return error }
        }
        #expect(problem(#"{"value":{"a":1},"kye":"k"}"#) == .init("unknown envelope member 'kye' beside 'value'", hint: "did you mean 'key'?"))
        #expect(problem(#"{"value_raw":"x","heders":{}}"#)?.hint == "did you mean 'headers'?")
        #expect(problem(#"{"value":100.0,"divisor":0}"#)?.hint?.contains(#"write {"value": {...}}"#) == true)
        #expect(problem(#"{"vaule":{"a":1},"key":"k"}"#) == .init("unknown envelope member 'vaule' beside 'key'", hint: "did you mean 'value'?"))
        #expect(problem(#"{"value":1,"value_raw":"1"}"#)?.message == "an envelope has 'value' or 'value_raw', not both")
        #expect(problem(#"{"value":1,"timestamp":"now"}"#)?.message.hasPrefix("'timestamp' must be epoch milliseconds") == true)
        #expect(problem(#"{"value":1,"partition":-1}"#)?.message.hasPrefix("'partition' must be a partition number") == true)
        #expect(problem(#"{"value":1,"headers":[["h"]]}"#)?.message.hasPrefix("'headers[0]' must be a [name, value] pair") == true)
        #expect(problem("{not json")?.message.hasPrefix("not JSON") == true)
        // Not envelopes: the record's value.
        #expect(problem(#"{"vaule":1}"#) == nil)
        #expect(problem(#"{"key":"k","amount":3}"#) == nil)
        #expect(problem(#"[1,2]"#) == nil)
    }

    @Test func summaryCountsRecordsProducedPerDestinationFilteredErrorsAndUnreadableLines() throws {
        let (dryRun, results) = try outcomes([
            #"{"id":"o1","amount":150,"n":0}"#,
            #"{"value":{"id":"o2","amount":5,"n":5},"timestamp":1}"#,
            #"{"value":{"a":1},"kye":"k"}"#,
        ])
        var summary = DryRunSummary(destinations: dryRun.names.count)
        for r in results { summary.add(r) }
        #expect(summary.records == 3)
        #expect(summary.unreadable == 1)
        #expect(summary.produced == [1, 1, 1, 1])
        #expect(summary.filtered == 3)
        #expect(summary.errors == 1)
        #expect(DryRunReport.summaryLine(summary, names: dryRun.names)
                    == "summary: records=3, produced: premium=1 calc=1 {source_topic}.recent=1 premium#3=1, filtered=3, errors=1, unreadable=1")
    }

    @Test func errorsNameTheirPolicyAndTheDeadLetterTopic() throws {
        let dryRun = try DryRun(routing: RoutingConfig(destinations: [DestinationConfig(output: "o", transform: "/a")]), deadLetterTopic: "dead")
        let r = try #require(dryRun.run(line: #"{"value_raw":"not json"}"#, lineNumber: 1))
        #expect(r.destinations == [.failed(kind: "malformed_json", message: "malformed JSON at byte 0: invalid literal", policy: .dlq, deadLetterTopic: "dead")])
        #expect(DryRunReport.text(r, names: dryRun.names).contains("error malformed_json: malformed JSON at byte 0: invalid literal (policy: dlq, to dead)"))
    }

    @Test func textShowsEachDestination() throws {
        let (dryRun, results) = try outcomes([
            #"{"value":{"id":"o1","amount":150,"n":0},"key":"k1","headers":[["h","1"]],"timestamp":5,"partition":2}"#,
            #"{"value":{"a":1},"kye":"k"}"#,
        ])
        let text = results.map { DryRunReport.text($0, names: dryRun.names) }.joined()
        let p = Murmur2.partition(forKey: Array("o1".utf8), partitionCount: 6)
        #expect(text == """
        record 1 (line 1, topic=orders partition=2 offset=0 timestamp=5)
          [0] premium: produce to premium
              key: "o1"
              value: {"id":"o1","amount":150}
              headers: [["h","1"],["x-src","sf"]]
              timestamp: 5 (source)
              partition: \(p) (murmur2 of the key over 6 partitions)
          [1] calc: error transform: ARITHMETIC: division by zero (policy: skip_and_log)
          [2] {source_topic}.recent: filtered
          [3] premium#3: produce to premium
              key: "k1"
              value: {"id":"o1","amount":150,"n":0}
              headers: [["h","1"]]
              timestamp: 5 (source)
              partition: \(p) (murmur2 of the partition field over 6 partitions)
        record 2 (line 2): unable to read the record: unknown envelope member 'kye' beside 'value'
            hint: did you mean 'key'?

        """)
    }
}
