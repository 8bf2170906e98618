import Foundation
import KafkaBridge
import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import StreamForgeTestSupport
import Testing

/// The language end to end through the built daemon: fan-out with filters, transforms,
/// envelope changes and the dead-letter topic, and `error_policy: fail`.
@Suite(.serialized) struct LanguageSystemTests {
    static func order(_ i: Int) -> [UInt8] {
        Array("{\"id\":\(i),\"user\":{\"id\":\"u\(i)\",\"email\":\"u\(i)@example.com\"},\"amount\":\(i * 10),\"ts\":\(1_600_000_000_000 + i),\"tags\":[\"a\",\"\(i % 2 == 0 ? "even" : "odd")\"]}".utf8)
    }

    @Test func fanOutWithFiltersTransformsEnvelopeAndDeadLetters() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["orders", "big", "slim", "audit", "dlq"], partitions: 4, directory: dir)
        // 40 good orders, one malformed value, one tombstone: 42 records.
        try KafkaTestClient.produce(bootstrap: broker.bootstrap, topic: "orders", count: 42) { i in
            switch i {
            case 40: return Outgoing(key: Array("bad".utf8), value: Array("{not json".utf8), headers: [("h", [1])], timestamp: 1000, partition: 0)
            case 41: return Outgoing(key: Array("gone".utf8), value: nil, timestamp: 1001, partition: 1)
            default: return Outgoing(key: Array("o\(i)".utf8), value: Self.order(i), headers: [("src", Array("shop".utf8))],
                                     timestamp: 5000 + Int64(i), partition: Int32(i % 4))
            }
        }
        let config = dir + "/config.yaml"
        try """
            appid: language-test
            bootstrap: "\(broker.bootstrap)"
            input: orders
            offset: earliest
            dlq: {enabled: true, topic: dlq}
            routing:
              destinations:
                - output: big
                  filter: "AND:/amount,>=,200:ARRAY_ANY:/tags,\\"\\",==,even"
                  transform: "CONSTRUCT:order=/id:customer=/user/id:total=/amount"
                  key_transform: "/user/id"
                - output: slim
                  transform: "HASH:SHA256,/user/email,email_hash"
                  headers: {origin: streamforge}
                  header_transforms:
                    - {header: customer, operation: "FROM:/user/id"}
                  timestamp: "FROM:/ts"
                  error_policy: dlq
                - output: audit
                  filter: "/id,<,3"
                  error_policy: skip_and_log
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let check = try ChildProcess(binaryPath("streamforged"), ["check-config", config], logPath: dir + "/check.log")
        #expect(check.wait(timeout: 30) == 0, "\(check.output)")

        let daemon = try ChildProcess(binaryPath("streamforged"), ["run", "--config", config, "--exit-after-records", "42"],
                                      logPath: dir + "/streamforged.log")
        #expect(daemon.wait(timeout: 120) == 0, "\(daemon.output.suffix(3000))")

        // big: amount >= 200 and an "even" tag → ids 20, 22, ..., 38.
        let big = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["big"], expected: 10, timeout: 30)
        #expect(big.count == 10)
        for r in big {
            let key = String(decoding: r.key ?? [], as: UTF8.self)
            let i = Int(key.dropFirst())!
            #expect(i >= 20 && i % 2 == 0)
            #expect(r.value == Array("{\"order\":\(i),\"customer\":\"u\(i)\",\"total\":\(i * 10)}".utf8))
            #expect(r.headers == [.init("src", Array("shop".utf8))], "headers pass through unchanged")
            #expect(r.timestamp == 5000 + Int64(i))
        }

        // slim: every good record with the e-mail hash added, static and derived headers, timestamp from the payload.
        let slim = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["slim"], expected: 40, timeout: 30)
        #expect(slim.count == 40)
        for r in slim {
            let key = String(decoding: r.key ?? [], as: UTF8.self)
            let i = Int(key.dropFirst())!
            let text = String(decoding: r.value ?? [], as: UTF8.self)
            #expect(text.hasPrefix(String(decoding: Self.order(i).dropLast(), as: UTF8.self) + ",\"email_hash\":\""), "\(text)")
            #expect(r.headers.map(\.name) == ["src", "origin", "customer"])
            #expect(r.headers.last?.value == Array("u\(i)".utf8))
            #expect(r.timestamp == 1_600_000_000_000 + Int64(i))
        }

        // audit: ids 0, 1, 2 only; the malformed record and the tombstone are skipped (logged).
        let audit = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["audit"], expected: 3, timeout: 20)
        #expect(Set(audit.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }) == ["o0", "o1", "o2"])

        // dlq: the malformed record and the tombstone, once each for every dlq destination that needs
        // the payload (big and slim), with the original bytes and the error headers.
        let dlq = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["dlq"], expected: 4, timeout: 20)
        #expect(dlq.count == 4)
        let malformed = dlq.filter { $0.key == Array("bad".utf8) }
        #expect(malformed.count == 2)
        for r in malformed {
            #expect(r.value == Array("{not json".utf8))
            #expect(r.headers.first == .init("h", [1]), "original headers come first")
            let names = Set(r.headers.map(\.name))
            for name in ["x-streamforge-error", "x-streamforge-error-type", "x-streamforge-source-topic",
                         "x-streamforge-source-partition", "x-streamforge-source-offset", "x-streamforge-timestamp",
                         "x-streamforge-pipeline", "x-streamforge-destination"] {
                #expect(names.contains(name), "missing \(name)")
            }
            #expect(r.headers.first { $0.name == "x-streamforge-source-topic" }?.value == Array("orders".utf8))
            #expect(r.headers.first { $0.name == "x-streamforge-pipeline" }?.value == Array("language-test".utf8))
        }
        #expect(dlq.filter { $0.key == Array("gone".utf8) }.allSatisfy { $0.value == nil })
        #expect(daemon.output.contains("record skipped"), "skip_and_log logs what it skipped")
        #expect(try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "language-test", topic: "orders",
                                                   partitions: 4) == 42)
    }

    @Test func failPolicyStopsThePartitionAtTheBadRecordUntilTheConfigIsFixed() throws {
        let dir = makeTempDirectory()
        let broker = try DevBrokerProcess(topics: ["in", "out"], partitions: 2, directory: dir)
        // Partition 0: 0..4 good, 5 lacks /amount, 6..9 good. Partition 1: 10 good records.
        try KafkaTestClient.produce(bootstrap: broker.bootstrap, topic: "in", count: 20) { i in
            let value = i == 5 ? "{\"id\":5}" : "{\"id\":\(i),\"amount\":\(i)}"
            return Outgoing(key: Array("k\(i)".utf8), value: Array(value.utf8), partition: i < 10 ? 0 : 1)
        }
        func config(_ transform: String) throws -> String {
            let path = dir + "/config.json"
            try """
                {"appid": "fail-test", "bootstrap": "\(broker.bootstrap)", "input": "in", "offset": "earliest",
                 "consumer_properties": {"session.timeout.ms": 6000},
                 "routing": {"destinations": [{"output": "out", "transform": "\(transform)", "error_policy": "fail"}]}}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let broken = try config("ARITHMETIC:MUL,/amount,2")
        let first = try ChildProcess(binaryPath("streamforged"), ["run", "--config", broken], logPath: dir + "/first.log")
        #expect(first.waitForOutput("partition stopped by error_policy fail", timeout: 60), "\(first.output.suffix(2000))")
        // The other partition keeps flowing.
        let deadline = Date().addingTimeInterval(30)
        var committed: Int64 = 0
        while committed < 15 && Date() < deadline {
            usleep(200_000)
            committed = try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "fail-test", topic: "in", partitions: 2)
        }
        #expect(committed == 15, "partition 1 complete (10) and partition 0 up to the bad record (5)")
        usleep(1_500_000)
        #expect(try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "fail-test", topic: "in", partitions: 2) == 15,
                "nothing past the failed record is committed")
        first.signal(SIGTERM)
        #expect(first.wait(timeout: 30) == 0, "\(first.output.suffix(1500))")

        // The operator fixes the transform (TRY gives a fallback); the stopped record is processed.
        let fixed = try config("TRY:ARITHMETIC:MUL,/amount,2,0")
        let second = try ChildProcess(binaryPath("streamforged"), ["run", "--config", fixed], logPath: dir + "/second.log")
        let until = Date().addingTimeInterval(60)
        while committed < 20 && Date() < until {
            usleep(200_000)
            committed = try KafkaTestClient.committedTotal(bootstrap: broker.bootstrap, group: "fail-test", topic: "in", partitions: 2)
        }
        second.signal(SIGTERM)
        #expect(second.wait(timeout: 30) == 0)
        #expect(committed == 20)
        let out = try KafkaTestClient.consume(bootstrap: broker.bootstrap, topics: ["out"], expected: 20, timeout: 30)
        let keys = out.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }
        #expect(Set(keys) == Set((0..<20).map { "k\($0)" }), "every record arrived exactly once the config was fixed")
        #expect(out.first { $0.key == Array("k5".utf8) }?.value == Array("0".utf8))
    }
}
