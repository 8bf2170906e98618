import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

/// Every example of docs/dsl.md, with the output the reference gives, in the reference's order.
@Suite struct ReferenceExampleTests {
    /// The record the reference's examples use unless they say otherwise.
    let record = #"""
    {"user":{"id":"user-123","name":"Alice","email":"alice@example.com","age":30},
     "status":"active","amount":150.5,"ok":true,"gone":null,"tags":["a","vip"],
     "items":[{"sku":"A","qty":2},{"sku":"B","qty":0}]}
    """#

    /// The record in compact form, as a transform that copies it writes it.
    let compact = #"{"user":{"id":"user-123","name":"Alice","email":"alice@example.com","age":30},"status":"active","amount":150.5,"ok":true,"gone":null,"tags":["a","vip"],"items":[{"sku":"A","qty":2},{"sku":"B","qty":0}]}"#

    // MARK: Paths

    @Test func pathsFollowRFC6901WithTheLeadingSlashOptional() throws {
        #expect(try passes("/user/id,==,user-123", record))
        #expect(try passes("/items/1/sku,==,B", record))
        #expect(try passes("/a~1b/c~0d,==,1", #"{"a/b":{"c~d":1}}"#))
        #expect(try passes("user/id,==,user-123", record))
        // The first of two members with the same name is read.
        #expect(try passes("/a,==,1", #"{"a":1,"a":2}"#))
    }

    // MARK: Filters (the table)

    @Test func filterTableComparisons() throws {
        #expect(try passes("/amount,>,100", record))
        #expect(try passes("/status,==,active", record))
        #expect(try passes("/status,==,'active'", record))
        #expect(try passes("/ok,==,true", record))
        #expect(try passes("/gone,==,null", record))
        #expect(try passes("/nope,!=,1", record))
        #expect(try !passes("/nope,==,1", record))
    }

    @Test func filterTablePresenceAndLogic() throws {
        #expect(try passes("EXISTS:/gone", record))
        #expect(try passes("AND:/amount,>,100:/status,==,active", record))
        let grouped = "AND:(OR:/a,==,1:/b,==,2):NOT:(REGEX:/e,'^x{2,}')"
        #expect(try passes(grouped, #"{"a":1,"e":"yx"}"#))
        #expect(try !passes(grouped, #"{"a":1,"e":"xxy"}"#))
    }

    @Test func filterTableRegexAndArrays() throws {
        #expect(try passes(#"REGEX:/user/email,@example\.com$"#, record))
        #expect(try passes("ARRAY_ANY:/items,/qty,==,0", record))
        #expect(try !passes("ARRAY_ALL:/items,/qty,>,0", record))
        #expect(try passes("ARRAY_ANY:/tags,,==,vip", record))
        #expect(try passes("ARRAY_ANY:/tags,'',==,vip", record))
    }

    @Test func filterTableKeysHeadersAndTimestamps() throws {
        #expect(try passes("KEY_EXISTS", record, key: "k"))
        #expect(try !passes("KEY_EXISTS", record, key: nil))
        #expect(try passes("KEY_PREFIX:user-", record, key: "user-1"))
        #expect(try passes(#"KEY_MATCHES:^user-\d+$"#, record, key: "user-42"))
        #expect(try passes("HEADER_EXISTS:x-tenant", record, headers: [("x-tenant", "prod")]))
        #expect(try !passes("HEADER_EXISTS:x-tenant", record))
        #expect(try passes("HEADER:x-tenant,==,prod", record, headers: [("x-tenant", "prod")]))
        #expect(try passes("HEADER:x-prio,>,5", record, headers: [("x-prio", "7")]))
        let now = CacheStore.nowMs()
        #expect(try passes("TIMESTAMP_AGE:<,300", record, timestamp: now - 60_000))
        #expect(try !passes("TIMESTAMP_AGE:<,300", record, timestamp: now - 600_000))
        #expect(try passes("TIMESTAMP_AFTER:1704067200000", record, timestamp: 1_704_067_200_001))
        #expect(try !passes("TIMESTAMP_AFTER:1704067200000", record, timestamp: 1_704_067_199_999))
    }

    // MARK: Filters (the semantics list)

    @Test func literalsAreTyped() throws {
        #expect(try passes("/n,==,12", #"{"n":12}"#))
        #expect(try passes("/n,==,-3.5", #"{"n":-3.5}"#))
        #expect(try passes("/n,==,1e3", #"{"n":1000}"#))
        #expect(try passes("/s,==,'a,b:(c)'", #"{"s":"a,b:(c)"}"#))
        #expect(try passes(#"/s,==,'it\'s'"#, #"{"s":"it's"}"#))
    }

    @Test func numbersCompareWithNumbersOnly() throws {
        #expect(try !passes("/n,==,5", #"{"n":"5"}"#))
        #expect(try passes("/n,==,'5'", #"{"n":"5"}"#))
        #expect(try passes("/n,!=,5", #"{"n":"5"}"#))
        #expect(try !passes("/n,>,1", #"{"n":"5"}"#))
        // Strings: == and != only; an ordering with a string could never match, so it is refused.
        #expect(compileError(filter: "/status,>,a")?.message == "'>' orders numbers, and 'a' is not a number")
        #expect(compileError(filter: "ARRAY_ANY:/items,/sku,<=,abc")?.column == 26)
        #expect(compileError(filter: "HEADER:x,>,abc")?.message == "'>' orders numbers, and 'abc' is not a number")
        #expect(compileError(filter: "/flag,<,true") != nil)
        #expect(compileError(filter: "/n,>=,-2.5e3") == nil)
    }

    @Test func missingAndNull() throws {
        #expect(try !passes("/nope,>,1", record))
        #expect(try !passes("/nope,==,null", record))
        #expect(try !passes("/status,==,null", record))
    }

    @Test func unparenthesisedOrEndsBeforeTheNextKeyword() throws {
        let f = "AND:OR:/a,==,1:/b,==,2:NOT:/c,==,3"
        #expect(try passes(f, #"{"a":1,"c":4}"#))
        #expect(try !passes(f, #"{"a":1,"c":3}"#))
        #expect(try passes("NOT:/status,==,inactive", record))
    }

    @Test func topLevelLastArgumentsRunToTheEnd() throws {
        #expect(try passes(#"REGEX:/t,^\d{2}:\d{2}$"#, #"{"t":"12:30"}"#))
        #expect(try passes("/time,==,12:30", #"{"time":"12:30"}"#))
        #expect(try passes("AND:REGEX:/s,^act(?:ive|ion)$:/n,>,1", #"{"s":"action","n":2}"#))
        #expect(try !passes("AND:REGEX:/s,^act(?:ive|ion)$:/n,>,1", #"{"s":"actor","n":2}"#))
    }

    @Test func regexClassesAreUnicode() throws {
        #expect(try passes(#"REGEX:/s,^\w+$"#, #"{"s":"héllo"}"#))
        #expect(try passes(#"REGEX:/s,^\d+$"#, #"{"s":"123"}"#))
    }

    @Test func keyWrittenAsAJSONStringIsReadAsThatString() throws {
        #expect(try passes("KEY_PREFIX:user-", record, key: #""user-1""#))
        #expect(try !passes("KEY_PREFIX:user-", record, key: nil))
    }

    @Test func headersUseTheLastDuplicateAndMissingPassesNotEqual() throws {
        #expect(try passes("HEADER:h,==,2", record, headers: [("h", "1"), ("h", "2")]))
        #expect(try passes("HEADER:h,!=,x", record))
        #expect(try !passes("HEADER:h,>,5", record, headers: [("h", "high")]))
    }

    // MARK: Value transforms (the table)

    @Test func transformTablePathsAndConstruct() throws {
        #expect(try transformed("/user/name", record) == #""Alice""#)
        #expect(try transformed("/nope", record) == record)
        #expect(try transformed("CONSTRUCT:name=/user/name:id=/user/id:x=/nope", record) == #"{"name":"Alice","id":"user-123"}"#)
    }

    @Test func transformTableArrayMap() throws {
        #expect(try transformed("ARRAY_MAP:/items,/sku", record) == #"["A","B"]"#)
        #expect(try transformed("ARRAY_MAP:/items,/sku,skus", record) == String(compact.dropLast()) + #","skus":["A","B"]}"#)
    }

    @Test func transformTableArithmetic() throws {
        #expect(try transformed("ARITHMETIC:ADD,/order/subtotal,/order/shipping", #"{"order":{"subtotal":100.50,"shipping":9.99}}"#) == "110.49")
        #expect(try transformed("ARITHMETIC:SUB,/total,/discount", #"{"total":100.0,"discount":20.0}"#) == "80.0")
        #expect(try transformed("ARITHMETIC:MUL,/price,1.2", #"{"price":100.0}"#) == "120.0")
        #expect(try transformed("ARITHMETIC:ADD,/a,/b", #"{"a":3,"b":4}"#) == "7")
        #expect(try transformed("ARITHMETIC:DIV,/a,4", #"{"a":10}"#) == "2.5")
    }

    @Test func transformTableHashes() throws {
        let sha = "e606e38b0d8c19b24cf0ee3808183162ea7cd63ff7912dbb22b5e803286b4446"
        #expect(try transformed("HASH:SHA256,/u", #"{"u":"user123"}"#) == "\"\(sha)\"")
        #expect(try transformed("HASH:MD5,/u", #"{"u":"user123"}"#) == #""6ad14ba9986e3615423dfca256d04e3f""#)
        #expect(try transformed("HASH:MURMUR128,/k", #"{"k":"partition-key"}"#) == #""c989c5aae5a31c2da9c550f9bc135f7b""#)
        #expect(try transformed("HASH:MURMUR64,/k", #"{"k":"partition-key"}"#) == #""a9c550f9bc135f7b""#)
        #expect(try transformed("HASH:SHA256,/u,h", #"{"u":"user123"}"#) == #"{"u":"user123","h":"\#(sha)"}"#)
    }

    @Test func transformTableStrings() throws {
        #expect(try transformed("STRING:UPPER,/user/name", record)
                == #"{"user":{"id":"user-123","name":"ALICE","email":"alice@example.com","age":30},"status":"active","amount":150.5,"ok":true,"gone":null,"tags":["a","vip"],"items":[{"sku":"A","qty":2},{"sku":"B","qty":0}]}"#)
        #expect(try transformed("STRING:LENGTH,/s,len", #"{"s":"héllo"}"#) == #"{"s":"héllo","len":5}"#)
        #expect(try transformed("STRING:SUBSTRING,/s,2,3", #"{"s":"a-b-c"}"#) == #"{"s":"b-c"}"#)
        #expect(try transformed("STRING:REPLACE_ALL,/s,-,+", #"{"s":"a-b-c"}"#) == #"{"s":"a+b+c"}"#)
        #expect(try transformed(#"STRING:REGEX_REPLACE,/s,(\w)-,$1_"#, #"{"s":"a-b-c"}"#) == #"{"s":"a_b_c"}"#)
        #expect(try transformed("STRING:SPLIT,/s,-,parts", #"{"s":"a-b-c"}"#) == #"{"s":"a-b-c","parts":["a","b","c"]}"#)
        #expect(try transformed("STRING:CONCAT,full,/first,' ',/last", #"{"first":"Ada","last":"Lovelace"}"#)
                == #"{"first":"Ada","last":"Lovelace","full":"Ada Lovelace"}"#)
    }

    @Test func transformTableTry() throws {
        #expect(try transformed("TRY:/user/email2,'unknown@example.com'", record) == #""unknown@example.com""#)
        #expect(try transformed("TRY:ARITHMETIC:DIV,/a,/b,null", #"{"a":1,"b":0}"#) == "null")
    }

    @Test func transformTableCaches() throws {
        let put = DestinationConfig(output: "put", filter: "EXISTS:/profile", transform: "CACHE_PUT:/id,users,/profile")
        let look = DestinationConfig(output: "look", filter: "EXISTS:/userId", transform: "CACHE_LOOKUP:/userId,users,profile")
        let merge = DestinationConfig(output: "merge", filter: "EXISTS:/userId", transform: "CACHE_LOOKUP:/userId,users,MERGE")
        let pipeline = try Pipeline(routing: RoutingConfig(destinations: [put, look, merge]))
        func run(_ v: String) throws -> [DestinationResult] {
            let r = try DryRunRecord(line: v)
            return r.withInputRecord { pipeline.process($0) }
        }
        func value(_ r: DestinationResult) -> String? {
            guard let o = output(r) else { return nil }
            if case .bytes(let b) = o.value { return b.map { String(decoding: $0, as: UTF8.self) } }
            return "unchanged"
        }
        let order = #"{"userId":"u1","name":"old"}"#
        // A miss leaves the value unchanged.
        #expect(try run(order).map(value) == [nil, "unchanged", "unchanged"])
        // CACHE_PUT leaves its own value unchanged.
        #expect(try run(#"{"id":"u1","profile":{"tier":"gold","name":"Ann"}}"#).map(value) == ["unchanged", nil, nil])
        #expect(try run(order).map(value) == [nil, #"{"userId":"u1","name":"old","profile":{"tier":"gold","name":"Ann"}}"#,
                                              #"{"userId":"u1","name":"Ann","tier":"gold"}"#])
    }

    // MARK: Value transforms (the semantics list)

    @Test func copiedPartsKeepTheirExactText() throws {
        #expect(try transformed("CONSTRUCT:big=/a:dec=/b:s=/c", #"{"a":12345678901234567890123,"b":100.50,"c":"x\u00e9\"y"}"#)
                == #"{"big":12345678901234567890123,"dec":100.50,"s":"x\u00e9\"y"}"#)
        #expect(try transformed("STRING:UPPER,/b", #"{"a":1,"b":"x","c":2}"#) == #"{"a":1,"b":"X","c":2}"#)
    }

    @Test func missingInputsLeaveTheValueUnchangedExceptArithmetic() throws {
        let v = #"{"o":{"a":1},"n":null}"#
        for t in ["/x", "HASH:MD5,/x", "ARRAY_MAP:/x,/a", "STRING:UPPER,/x", "STRING:UPPER,/n", "STRING:UPPER,/o"] {
            #expect(try transformed(t, v) == v, "\(t)")
        }
        #expect(try transformed("ARITHMETIC:ADD,/x,1", v) == "error:transform")
        #expect(try transformed("ARITHMETIC:DIV,/o/a,0", v) == "error:transform")
    }

    @Test func tryFallbackIsAnyJSON() throws {
        #expect(try transformed(#"TRY:/x,{"a":1}"#, "{}") == #"{"a":1}"#)
        #expect(try transformed("TRY:/x,42", "{}") == "42")
        #expect(try transformed("TRY:/x,true", "{}") == "true")
    }

    @Test func stringOperationsReadNumbersAndBooleansAsText() throws {
        #expect(try transformed("STRING:LENGTH,/n,len", #"{"n":12345}"#) == #"{"n":12345,"len":5}"#)
        #expect(try transformed("STRING:UPPER,/b", #"{"b":true}"#) == #"{"b":"TRUE"}"#)
        #expect(try transformed("STRING:UPPER,/a/b", #"{"a":{"b":"x","c":1},"d":2}"#) == #"{"a":{"b":"X","c":1},"d":2}"#)
        #expect(try transformed("STRING:UPPER,/a/b", #"{"d":2}"#) == #"{"d":2}"#)
        #expect(try transformed("STRING:UPPER,/s,out", #"["x"]"#) == #"["x"]"#)
    }

    @Test func concatPartsAndQuoting() throws {
        #expect(try transformed("STRING:CONCAT,o,/a,-,/missing,'/lit,x'", #"{"a":"A"}"#) == #"{"a":"A","o":"A-/lit,x"}"#)
    }

    @Test func hashInputOfNumbersAndObjects() throws {
        #expect(try transformed("HASH:MD5,/n", #"{"n":100.50}"#) == "\"" + HashAlgorithm.md5.hex(Array("100.5".utf8)) + "\"")
        #expect(try transformed("HASH:MD5,/o", #"{"o":{"b":1,"a":2}}"#) == "\"" + HashAlgorithm.md5.hex(Array(#"{"a":2,"b":1}"#.utf8)) + "\"")
        let upper = try transformed("HASH:SHA256,/u", #"{"u":"user123"}"#)
        #expect(try transformed("HASH:sha-256,/u", #"{"u":"user123"}"#) == upper)
    }

    @Test func blockScalarWhitespaceIsIgnored() throws {
        #expect(try transformed("  CONSTRUCT:a=/a\n", #"{"a":1}"#) == #"{"a":1}"#)
        #expect(try passes("/a,==,1\n", #"{"a":1}"#))
    }

    // MARK: Envelope

    let envelopeRecord = #"{"user":{"id":"user-123","email":"alice@example.com"},"tenant":"acme","region":"eu","ts":1700000000123}"#

    @Test func envelopeKeyTransforms() throws {
        let v = envelopeRecord
        #expect(keyText(try run1(keyTransform: "/user/id", value: v)) == "user-123")
        #expect(keyText(try run1(keyTransform: "/user", value: v)) == #"{"id":"user-123","email":"alice@example.com"}"#)
        #expect(keyText(try run1(keyTransform: "CONSTRUCT:tenant=/tenant:user=/user/id", value: v)) == #"{"tenant":"acme","user":"user-123"}"#)
        #expect(keyText(try run1(keyTransform: "HASH:SHA256,/user/email", value: v)) == HashAlgorithm.sha256.hex(Array("alice@example.com".utf8)))
        #expect(keyText(try run1(keyTransform: "{/tenant}-{/region}-{/user/id}", value: v)) == "acme-eu-user-123")
        #expect(keyText(try run1(keyTransform: "fixed-key", value: v)) == "fixed-key")
    }

    @Test func envelopeHeaders() throws {
        let o = try #require(output(try run1(
            headers: [(name: "x-source", value: "mirror")],
            headerTransforms: [HeaderTransformSpec(header: "x-tenant", operation: "FROM:/tenant"),
                               HeaderTransformSpec(header: "x-copy", operation: "COPY:h"),
                               HeaderTransformSpec(header: "x-none", operation: "COPY:absent"),
                               HeaderTransformSpec(header: "gone", operation: "REMOVE")],
            value: envelopeRecord, recordHeaders: [("x-source", "a"), ("h", "1"), ("x-source", "b"), ("gone", "x"), ("h", "2")])))
        guard case .replaced(let hs) = o.headers else { Issue.record("headers not replaced"); return }
        #expect(hs.map(\.name) == ["x-source", "h", "h", "x-tenant", "x-copy"])
        #expect(hs.map { $0.value.map { String(decoding: $0, as: UTF8.self) } } == ["mirror", "1", "2", "acme", "2"])
        guard case .failed(let e) = try run1(headerTransforms: [HeaderTransformSpec(header: "h", operation: "FROM:/user")], value: envelopeRecord) else {
            Issue.record("an object header value was accepted"); return
        }
        #expect(e.kind == .headerTransform)
    }

    @Test func envelopeTimestamps() throws {
        let v = envelopeRecord
        #expect(output(try run1(timestamp: "PRESERVE", value: v))?.timestamp == nil)
        #expect(output(try run1(value: v))?.timestamp == nil)
        #expect(output(try run1(timestamp: "FROM:/ts", value: v))?.timestamp == 1_700_000_000_123)
        #expect(output(try run1(timestamp: "ADD:60", value: v, recordTimestamp: 1_000))?.timestamp == 61_000)
        #expect(output(try run1(timestamp: "SUBTRACT:1", value: v, recordTimestamp: 5_000))?.timestamp == 4_000)
        let cur = try #require(output(try run1(timestamp: "CURRENT", value: v))?.timestamp)
        #expect(abs(cur - CacheStore.nowMs()) < 5_000)
    }

    @Test func envelopePartitions() throws {
        let v = envelopeRecord
        #expect(output(try run1(value: v))?.partition == .keyHash)
        #expect(output(try run1(partition: .preserve, value: v))?.partition == .preserve)
        #expect(output(try run1(partition: .field("/user/id"), value: v))?.partition == .hash(Array("user-123".utf8)))
        #expect(output(try run1(partition: .field("/user"), value: v))?.partition
                == .hash(Array(#"{"id":"user-123","email":"alice@example.com"}"#.utf8)))
        #expect(output(try run1(partition: .field("/nope"), value: v))?.partition == .keyHash)
    }

    @Test func envelopeKeysAndMissingPaths() throws {
        let o = try #require(output(try run1(filter: "/tenant,==,acme", value: envelopeRecord, key: "\"raw\"")))
        #expect(o.key == .unchanged)
        for (kt, ts, h) in [("/nope", nil, nil), ("{/nope}-x", nil, nil), (nil, "FROM:/nope", nil), (nil, nil, "FROM:/nope")] as [(String?, String?, String?)] {
            let r = try run1(keyTransform: kt, headerTransforms: h.map { [HeaderTransformSpec(header: "h", operation: $0)] } ?? [],
                             timestamp: ts, value: envelopeRecord)
            guard case .failed(let e) = r else { Issue.record("missing path accepted"); continue }
            #expect(e.kind == (kt != nil ? .keyTransform : ts != nil ? .timestamp : .headerTransform))
        }
    }

    // MARK: Content routing

    @Test func contentRouting() throws {
        let routes = [
            DestinationConfig(output: "orders", matchValue: "order"),
            DestinationConfig(output: "all"),
            DestinationConfig(output: "fives", matchValue: "5"),
            DestinationConfig(output: "rest", matchValue: "*"),
        ]
        func targets(_ v: String?) throws -> [String] {
            try runRecord(routes, routingType: .content, path: "/eventType", value: v).compactMap { output($0)?.topic }
        }
        #expect(try targets(#"{"eventType":"order"}"#) == ["orders", "all"])
        #expect(try targets(#"{"eventType":5}"#) == ["all", "fives"])
        #expect(try targets(#"{"eventType":"refund"}"#) == ["all", "rest"])
        let broken = try runRecord(routes, routingType: .content, path: "/eventType", value: nil)
        #expect(broken.filter { if case .failed = $0 { return true } else { return false } }.count == 1)
        if case .failed(let e) = broken[3] { #expect(e.kind == .tombstone) } else { Issue.record("the \"*\" route did not get the error") }
    }

    // MARK: Errors per record

    @Test func errorKindsAndTheForwardedValue() throws {
        guard case .failed(let t) = try run1(filter: "/a,==,1", value: nil) else { Issue.record("tombstone read"); return }
        #expect(t.kind == .tombstone)
        guard case .failed(let m) = try run1(filter: "/a,==,1", value: "not json") else { Issue.record("not JSON read"); return }
        #expect(m.kind == .malformedJSON)
        // A destination that never reads the value forwards a tombstone or any bytes unchanged.
        #expect(output(try run1(value: "not json"))?.value == .unchanged)
        #expect(output(try run1(filter: "KEY_EXISTS", value: nil, key: "k"))?.value == .unchanged)
        // A filter forwards the original bytes as they are; only the parts it read are checked.
        #expect(output(try run1(filter: "/a,==,1", value: #"{"a":1,"b":[1,}"#))?.value == .unchanged)
        // A value a destination builds is always checked, whatever it copies.
        guard case .failed(let c) = try run1(transform: "CONSTRUCT:b=/b", value: #"{"a":1,"b":[1,}"#) else { Issue.record("copied broken JSON"); return }
        #expect(c.kind == .malformedJSON)
        guard case .failed(let s) = try run1(transform: "STRING:UPPER,/a", value: #"{"a":"x","b":{"c":tru}}"#) else { Issue.record("copied broken JSON"); return }
        #expect(s.kind == .malformedJSON)
    }

    @Test func checkForwardedJSONOptionChecksTheWholeValue() throws {
        let pipeline = try Pipeline(routing: RoutingConfig(destinations: [DestinationConfig(output: "o", filter: "/a,==,1")]),
                                    options: .init(checkForwardedJSON: true))
        func run(_ v: String) throws -> DestinationResult {
            var r = try DryRunRecord(line: #"{"value_raw":""}"#)
            r.value = Array(v.utf8)
            return r.withInputRecord { pipeline.process($0)[0] }
        }
        guard case .failed(let e) = try run(#"{"a":1,"b":[1,}"#) else { Issue.record("forwarded broken JSON"); return }
        #expect(e.kind == .malformedJSON)
        #expect(output(try run(#"{"a":1,"b":[1,{"c":null}]}"#))?.value == .unchanged)
    }

    // MARK: dry-run input

    @Test func dryRunEnvelopeLines() throws {
        let routing = RoutingConfig(destinations: [DestinationConfig(output: "o", filter: "/a,==,1", keyTransform: "/a")])
        let dryRun = try DryRun(routing: routing)
        let out = [
            #"{"value":{"a":1},"key":"k","headers":{"h":"v"},"timestamp":1700000000000,"topic":"t","partition":2,"offset":7}"#,
            #"{"a":2}"#,
            #"{"value_raw":"not json"}"#,
            #"{"value":null}"#,
        ].enumerated().compactMap { dryRun.run(line: $1, lineNumber: $0 + 1) }.map { DryRunReport.text($0, names: dryRun.names) }.joined()
        #expect(out.contains("record 1 (line 1, topic=t partition=2 offset=7 timestamp=1700000000000)"))
        #expect(out.contains("produce to o"))
        #expect(out.contains(#"key: "1""#))
        #expect(out.contains(#"headers: [["h","v"]]"#))
        #expect(out.contains("filtered"))
        #expect(out.contains("error malformed_json"))
        #expect(out.contains("error tombstone"))
    }
}
