import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

@Suite struct EnvelopeTests {
    let v = #"{"user":{"id":"user-123","n":42},"tenant":"acme","region":"eu","ts":1700000000123,"email":"a@b.c"}"#

    @Test func keyTransforms() throws {
        #expect(keyText(try run1(keyTransform: "/user/id", value: v)) == "user-123")
        #expect(keyText(try run1(keyTransform: "/user", value: v)) == #"{"id":"user-123","n":42}"#)
        #expect(keyText(try run1(keyTransform: "/user/n", value: v)) == "42")
        #expect(keyText(try run1(keyTransform: "CONSTRUCT:tenant=/tenant:user=/user/id", value: v)) == #"{"tenant":"acme","user":"user-123"}"#)
        #expect(keyText(try run1(keyTransform: "{/tenant}-{/region}-{/user/id}", value: v)) == "acme-eu-user-123")
        #expect(keyText(try run1(keyTransform: "user-{/user/n}", value: v)) == "user-42")
        #expect(keyText(try run1(keyTransform: "HASH:SHA256,/email", value: v)) == HashAlgorithm.sha256.hex(Array("a@b.c".utf8)))
        #expect(keyText(try run1(keyTransform: "fixed-key", value: v)) == "fixed-key")
        guard case .failed(let e) = try run1(keyTransform: "/nope", value: v) else { Issue.record("expected failure"); return }
        #expect(e.kind == .keyTransform)
    }

    @Test func untouchedKeyPassesThroughByteForByte() throws {
        let o = try #require(output(try run1(filter: "/tenant,==,acme", value: v, key: "  raw key \u{1}")))
        #expect(o.key == .unchanged)
        #expect(o.value == .unchanged)
        #expect(o.headers == .unchanged)
        #expect(o.timestamp == nil)
        #expect(o.partition == .keyHash)
    }

    @Test func headersInOrderWithDuplicates() throws {
        let source: [(String, String?)] = [("a", "1"), ("b", "2"), ("a", "3"), ("n", nil)]
        let o = try #require(output(try run1(
            headers: [(name: "x-static", value: "yes"), (name: "b", value: "B")],
            headerTransforms: [HeaderTransformSpec(header: "x-tenant", operation: "FROM:/tenant"),
                               HeaderTransformSpec(header: "x-n", operation: "FROM:/user/n"),
                               HeaderTransformSpec(header: "c", operation: "COPY:a"),
                               HeaderTransformSpec(header: "z", operation: "COPY:missing"),
                               HeaderTransformSpec(header: "n", operation: "REMOVE")],
            value: v, recordHeaders: source)))
        guard case .replaced(let hs) = o.headers else { Issue.record("headers not replaced"); return }
        #expect(hs.map(\.name) == ["a", "b", "a", "x-static", "x-tenant", "x-n", "c"])
        #expect(hs.map { $0.value.map { String(decoding: $0, as: UTF8.self) } } == ["1", "B", "3", "yes", "acme", "42", "3"])
    }

    @Test func headerFromMissingPathFails() throws {
        guard case .failed(let e) = try run1(headerTransforms: [HeaderTransformSpec(header: "h", operation: "FROM:/nope")], value: v) else {
            Issue.record("expected failure"); return
        }
        #expect(e.kind == .headerTransform)
    }

    /// Every per-record error names its path in quotes, the whole value's empty path included.
    @Test func errorsNameTheirPathInQuotes() throws {
        func message(_ r: DestinationResult) -> String? {
            if case .failed(let e) = r { return e.message }
            return nil
        }
        #expect(message(try run1(timestamp: "FROM:", value: #"{"ts":1}"#)) == "the value at '' is not an integer (epoch milliseconds)")
        #expect(message(try run1(timestamp: "FROM:/tenant", value: v)) == "the value at '/tenant' is not an integer (epoch milliseconds)")
        #expect(message(try run1(timestamp: "FROM:/nope", value: v)) == "timestamp path '/nope' not found in the value")
        #expect(message(try run1(keyTransform: "/nope", value: v)) == "key path '/nope' not found in the value")
        #expect(message(try run1(keyTransform: "HASH:MD5,/nope", value: v)) == "key path '/nope' not found in the value")
        #expect(message(try run1(keyTransform: "k-{/nope}", value: v)) == "key template path '/nope' not found in the value")
        #expect(message(try run1(headerTransforms: [HeaderTransformSpec(header: "h", operation: "FROM:/nope")], value: v))
                    == "header 'h': path '/nope' not found in the value")
        #expect(message(try run1(headerTransforms: [HeaderTransformSpec(header: "h", operation: "FROM:")], value: v))
                    == "header 'h': the value at '' is not a string, number or boolean")
        #expect(message(try run1(transform: "ARITHMETIC:ADD,/nope,1", value: v)) == "ARITHMETIC: left operand '/nope' not found or not a number")
        #expect(message(try run1(transform: "ARITHMETIC:ADD,/ts,/tenant", value: v)) == "ARITHMETIC: right operand '/tenant' not found or not a number")
    }

    @Test func timestampOperations() throws {
        #expect(output(try run1(timestamp: "PRESERVE", value: v))?.timestamp == nil)
        #expect(output(try run1(timestamp: "FROM:/ts", value: v))?.timestamp == 1_700_000_000_123)
        #expect(output(try run1(timestamp: "ADD:60", value: v, recordTimestamp: 1000))?.timestamp == 61_000)
        #expect(output(try run1(timestamp: "SUBTRACT:1", value: v, recordTimestamp: 5000))?.timestamp == 4000)
        let now = CacheStore.nowMs()
        let cur = try #require(output(try run1(timestamp: "CURRENT", value: v))?.timestamp)
        #expect(abs(cur - now) < 5000)
        guard case .failed(let e) = try run1(timestamp: "FROM:/tenant", value: v) else { Issue.record("expected failure"); return }
        #expect(e.kind == .timestamp)
    }

    @Test func partitionChoices() throws {
        #expect(output(try run1(partition: .preserve, value: v))?.partition == .preserve)
        #expect(output(try run1(partition: .field("/user/id"), value: v))?.partition == .hash(Array("user-123".utf8)))
        #expect(output(try run1(partition: .field("/user/n"), value: v))?.partition == .hash(Array("42".utf8)))
        #expect(output(try run1(partition: .field("/nope"), value: v))?.partition == .keyHash)
    }

    @Test func kafkaMurmur2MatchesJavaClient() {
        // Values from the Java client's partitioner tests (Utils.murmur2).
        func m(_ s: String) -> Int32 { Array(s.utf8).withUnsafeBufferPointer { Hashes.kafkaMurmur2($0) } }
        #expect(m("21") == -973932308)
        #expect(m("foobar") == -790332482)
        #expect(m("a-little-bit-long-string") == -985981536)
    }

    @Test func outputTopicTemplate() throws {
        let d = DestinationConfig(output: "mirror.{source_topic}")
        let r = try runRecord([d], value: "{}", topic: "orders")
        #expect(output(r[0])?.topic == "mirror.orders")
    }

    @Test func tombstonesAndMalformedValues() throws {
        guard case .failed(let t) = try run1(filter: "/a,==,1", value: nil) else { Issue.record("expected failure"); return }
        #expect(t.kind == .tombstone)
        // A destination that never reads the value passes a tombstone through.
        #expect(output(try run1(filter: "KEY_EXISTS", value: nil, key: "k"))?.value == .unchanged)
        for bad in ["not json", "{\"a\":1", "", "{\"a\":1} x", "[1,2"] {
            guard case .failed(let e) = try run1(filter: "/a,==,1", value: bad) else { Issue.record("accepted \(bad)"); continue }
            #expect(e.kind == .malformedJSON, "\(bad)")
        }
        // The fields read are fine but the rest is broken. By default a filter forwards the
        // original bytes as a mirror would (only what it read is checked; docs/dsl.md, "Errors
        // per record"); with `checkForwardedJSON` the value is checked whole and not forwarded.
        let checking = try Pipeline(routing: RoutingConfig(destinations: [DestinationConfig(output: "o", filter: "/a,==,1")]),
                                    options: .init(checkForwardedJSON: true))
        for broken in [#"{"a":1,}"#, #"{"a":1,"b":[1,}"#] {
            #expect(output(try run1(filter: "/a,==,1", value: broken))?.value == .unchanged, "\(broken)")
            var rec = try DryRunRecord(line: #"{"value_raw":""}"#)
            rec.value = Array(broken.utf8)
            guard case .failed(let e) = rec.withInputRecord({ checking.process($0)[0] }) else { Issue.record("forwarded \(broken)"); continue }
            #expect(e.kind == .malformedJSON)
        }
    }
}

@Suite struct ContentRoutingTests {
    let routes = [
        DestinationConfig(output: "orders", matchValue: "order"),
        DestinationConfig(output: "users", matchValue: "user"),
        DestinationConfig(output: "big-orders", filter: "/total,>,100", matchValue: "order"),
        DestinationConfig(output: "other", matchValue: "*"),
    ]

    func targets(_ value: String) throws -> [String] {
        try runRecord(routes, routingType: .content, path: "/eventType", value: value).compactMap { output($0)?.topic }
    }

    @Test func routesByFieldValueWithDefault() throws {
        #expect(try targets(#"{"eventType":"order","total":5}"#) == ["orders"])
        #expect(try targets(#"{"eventType":"order","total":500}"#) == ["orders", "big-orders"])
        #expect(try targets(#"{"eventType":"user"}"#) == ["users"])
        #expect(try targets(#"{"eventType":"refund"}"#) == ["other"])
        #expect(try targets(#"{"x":1}"#) == ["other"])
    }

    @Test func unreadableRecordFailsOnceAtTheDefaultRoute() throws {
        let r = try runRecord(routes, routingType: .content, path: "/eventType", value: "nope")
        #expect(r.filter { if case .failed = $0 { return true } else { return false } }.count == 1)
        if case .failed(let e) = r[3] { #expect(e.kind == .malformedJSON) } else { Issue.record("default route did not get the error") }
    }

    @Test func filterRoutingFansOut() throws {
        let d = [DestinationConfig(output: "a"), DestinationConfig(output: "b", filter: "/x,==,1"), DestinationConfig(output: "c", filter: "/x,==,2")]
        let r = try runRecord(d, value: #"{"x":1}"#)
        #expect(r.compactMap { output($0)?.topic } == ["a", "b"])
    }

    @Test func pureMirrorNeedsNoPayload() throws {
        let p = try Pipeline(routing: RoutingConfig(destinations: [DestinationConfig(output: "a"), DestinationConfig(output: "b", filter: "KEY_PREFIX:x")]))
        #expect(!p.needsPayload)
        let q = try Pipeline(routing: RoutingConfig(destinations: [DestinationConfig(output: "a", keyTransform: "/id")]))
        #expect(q.needsPayload)
    }
}
