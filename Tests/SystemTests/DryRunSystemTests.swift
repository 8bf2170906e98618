import Foundation
import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import StreamForgeTestSupport
import Testing

/// `streamforgectl dry-run --json` says what the daemon will produce: the same records go through
/// both, and every record the daemon wrote is the one dry-run predicted (topic, partition from
/// the target's metadata, key, value, headers, timestamp), quoted patterns included.
@Suite(.serialized) struct DryRunSystemTests {
    struct Sample {
        var key: String
        var value: String
        var partition: Int32
        var timestamp: Int64
    }

    static let samples: [Sample] = [
        Sample(key: "k0", value: #"{"id":"u0","email":"ada@example.com","ssn":"123-45-6789","ts":1600000000000}"#, partition: 0, timestamp: 5000),
        Sample(key: "k1", value: #"{"id":"u1","email":"bob@examplecom","ssn":"987-65-4321","ts":1600000000001}"#, partition: 1, timestamp: 5001),
        Sample(key: "k2", value: #"{"id":"u2","email":"cy@example.org","ssn":"ddd-dd-dddd","ts":1600000000002}"#, partition: 2, timestamp: 5002),
        Sample(key: "k3", value: #"{"id":"u3","email":"dee@xio","ssn":"111-22-3333","ts":1600000000003,"n":1.50}"#, partition: 3, timestamp: 5003),
    ]

    @Test func dryRunPredictsWhatTheDaemonProduces() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["orders", "masked", "keyed"], partitions: 4, directory: dir)
        try KafkaTestClient.produce(bootstrap: broker.bootstrap, topic: "orders", count: Self.samples.count) { i in
            let s = Self.samples[i]
            return Outgoing(key: Array(s.key.utf8), value: Array(s.value.utf8), headers: [("src", Array("shop".utf8))],
                            timestamp: s.timestamp, partition: s.partition)
        }
        let config = dir + "/config.yaml"
        try #"""
            appid: dry-run-test
            bootstrap: "\#(broker.bootstrap)"
            input: orders
            offset: earliest
            routing:
              destinations:
                - output: masked
                  filter: "REGEX:/email,'^[^@]+@[^@]+\\.[^@]+$'"
                  transform: "STRING:REGEX_REPLACE,/ssn,'\\d{3}-\\d{2}',XXX-XX"
                  partition: /id
                - output: keyed
                  filter: "OR:(KEY_MATCHES:'^k[0-1]$'):(REGEX:/ssn,'^\\d{3}-')"
                  key_transform: "user-{/id}"
                  headers: {origin: streamforge}
                  timestamp: "FROM:/ts"
            """#.write(toFile: config, atomically: true, encoding: .utf8)
        let samples = dir + "/samples.jsonl"
        try Self.samples.map { s in
            #"{"value":\#(s.value),"key":"\#(s.key)","headers":[["src","shop"]],"timestamp":\#(s.timestamp),"partition":\#(s.partition)}"#
        }.joined(separator: "\n").write(toFile: samples, atomically: true, encoding: .utf8)

        // No --partitions: the counts come from the target cluster's metadata.
        let dryRun = try ChildProcess(binaryPath("streamforgectl"), ["dry-run", "--json", "--fail-on-error", "--config", config, samples],
                                      logPath: dir + "/dry-run.log")
        #expect(dryRun.wait(timeout: 60) == 0, "\(dryRun.output)")
        let predictions = try dryRun.output.split(separator: "\n").filter { $0.hasPrefix("{\"record\"") }.map { try JSONValue.parse(String($0)) }
        #expect(predictions.count == Self.samples.count)
        #expect(dryRun.output.contains("summary: records=4, produced: masked=2 keyed=3, filtered=3, errors=0, unreadable=0"), "\(dryRun.output)")

        let daemon = try ChildProcess(binaryPath("streamforged"), ["run", "--config", config, "--exit-after-records", "\(Self.samples.count)"],
                                      logPath: dir + "/streamforged.log")
        #expect(daemon.wait(timeout: 120) == 0, "\(daemon.output.suffix(3000))")

        for topic in ["masked", "keyed"] {
            var expected: [JSONValue] = []
            for p in predictions {
                guard case .object(let ds)? = member(p, "destinations"), let d = ds.first(where: { $0.key == topic })?.value,
                      member(d, "filtered") == nil else { continue }
                expected.append(d)
            }
            let got = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: [topic], expected: expected.count, timeout: 30)
            #expect(got.count == expected.count, "\(topic)")
            for r in got {
                let key = r.key.map { String(decoding: $0, as: UTF8.self) }
                guard let d = expected.first(where: { member($0, "key") == key.map { .string($0) } ?? .null }) else {
                    Issue.record("\(topic): unexpected record with key \(key ?? "null")"); continue
                }
                #expect(member(d, "topic") == .string(r.topic))
                #expect(member(d, "partition") == .number("\(r.partition)"), "\(topic) \(key ?? "")")
                #expect((try? JSONValue.parse(r.value ?? [])) == member(d, "value"), "\(topic) \(key ?? "")")
                #expect(member(d, "timestamp") == .number("\(r.timestamp)"))
                let headers = JSONValue.array(r.headers.map { .array([.string($0.name), $0.value.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null]) })
                #expect(member(d, "headers") == headers)
            }
        }
        // What the quoted patterns mean: the e-mails without a dot after '@' are filtered out, an
        // SSN that is not digits is left alone; `'^\d{3}-'` does not take "ddd-" (k2 is not keyed).
        let masked = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["masked"], expected: 2, timeout: 30)
        #expect(Set(masked.compactMap { $0.value.map { String(decoding: $0, as: UTF8.self) } }) == [
            #"{"id":"u0","email":"ada@example.com","ssn":"XXX-XX-6789","ts":1600000000000}"#,
            #"{"id":"u2","email":"cy@example.org","ssn":"ddd-dd-dddd","ts":1600000000002}"#,
        ])
        let keyed = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["keyed"], expected: 3, timeout: 30)
        #expect(Set(keyed.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }) == ["user-u0", "user-u1", "user-u3"])
    }

    func member(_ v: JSONValue?, _ name: String) -> JSONValue? {
        guard case .object(let ms)? = v else { return nil }
        return ms.first { $0.key == name }?.value
    }
}
