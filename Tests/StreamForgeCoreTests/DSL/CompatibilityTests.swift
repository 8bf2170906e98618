import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

/// Cases taken from the existing tool's guides: its files must load here and mean what they say.
@Suite struct CompatibilityTests {
    /// `OR:AND:a:b:AND:c:d` (a guide's "premium users OR bulk orders") is (a AND b) OR (c AND d).
    @Test func anAndInsideAnOrEndsBeforeTheNextAnd() throws {
        let filter = "OR:AND:/user/tier,==,premium:/user/status,==,active:AND:/order/items,>=,10:/order/total,>,500"
        #expect(try passes(filter, #"{"user":{"tier":"premium","status":"active"},"order":{"items":1,"total":10}}"#))
        #expect(try passes(filter, #"{"user":{"tier":"basic","status":"active"},"order":{"items":12,"total":600}}"#))
        #expect(try !passes(filter, #"{"user":{"tier":"premium","status":"gone"},"order":{"items":12,"total":6}}"#))
        // NOT ends it too; parentheses still group explicitly; an AND inside an AND is the same AND.
        #expect(try passes("OR:AND:/a,==,1:/b,==,1:NOT:/c,==,1", #"{"a":0,"b":0,"c":0}"#))
        #expect(try !passes("OR:(AND:/a,==,1:/b,==,1:NOT:/c,==,1)", #"{"a":0,"b":0,"c":0}"#))
        #expect(try passes("AND:AND:/a,==,1:/b,==,1:/c,==,1", #"{"a":1,"b":1,"c":1}"#))
        #expect(try !passes("AND:AND:/a,==,1:/b,==,1:/c,==,1", #"{"a":1,"b":1,"c":0}"#))
        // Only a combinator of the other kind ends early: an OR inside an OR takes the rest.
        #expect(try passes("AND:OR:OR:/a,==,1:/b,==,1:NOT:/c,==,1", #"{"a":0,"b":0,"c":0}"#))
        // The existing rule for an OR inside an AND is unchanged.
        #expect(try passes("AND:OR:/a,==,1:/b,==,1:NOT:/c,==,1", #"{"a":0,"b":1,"c":0}"#))
        #expect(try !passes("AND:OR:/a,==,1:/b,==,1:NOT:/c,==,1", #"{"a":0,"b":1,"c":1}"#))
    }

    /// serde_json's f64 text, hashed: plain for decimal exponents -5…15, else `1e+16` style;
    /// integers beyond 64 bits are read as f64. MD5 of the text, computed independently.
    @Test func hashedNumbersUseTheExistingToolsText() throws {
        let cases: [(String, String)] = [
            ("1e16", "17ad58a7ab5201decb18b0996a327592"),                 // "1e+16"
            ("2.5e-5", "d4055f12d7ecf3c24723965c6f68a2ae"),               // "0.000025"
            ("1e-5", "4d349a3d6db9dac94357eff8a4273d7e"),                 // "0.00001"
            ("12345678901234567890123", "1745357a7cfc2de0b500a5b98e80abc7"), // "1.2345678901234568e+22"
            ("100.00", "62dca49f0781bf26b4305bddb0414bea"),               // "100.0"
            ("1.7976931348623157e308", "e4749bbf587e511ef5ec505a1800f69a"),
            ("18446744073709551615", "7e7825a3d8588a756abd0ce2ed07e121"), // u64 max stays an integer
            ("-9223372036854775808", "e12c22bb0312e7872c49884f8304d882"), // i64 min stays an integer
        ]
        for (number, md5) in cases {
            #expect(try transformed("HASH:MD5,/v", #"{"v":\#(number)}"#) == "\"\(md5)\"", "\(number)")
        }
        #expect(NumberText.format(1e15) == "1000000000000000.0")
        #expect(NumberText.format(-0.5) == "-0.5")
        #expect(NumberText.format(1.5e-7) == "1.5e-7")
        #expect(NumberText.format(123456.789) == "123456.789")
        #expect(NumberText.format(Double.leastNonzeroMagnitude) == "5e-324")
    }

    @Test func constructFieldsMayBeWrittenOnePerLine() throws {
        let transform = "CONSTRUCT:\n  tenant=/t:\n  user = /u/id\n"
        #expect(try transformed(transform, #"{"t":"acme","u":{"id":7}}"#) == #"{"tenant":"acme","user":7}"#)
    }

    /// Text that is a script, a function call or a nested transform is not read as a path
    /// without its '/', which would load and then silently find nothing.
    @Test func codeIsNotTakenForAPath() {
        #expect(compileError(transform: "msg + #{ id: msg.id }")?.message.hasSuffix("is not a path") == true)
        #expect(compileError(transform: "construct(id=/user/id)")?.message.hasSuffix("is not a path") == true)
        #expect(compileError(keyTransform: "HASH:MURMUR128,CONSTRUCT:a=/x:b=/y")?.message.hasSuffix("is not a path") == true)
        #expect(compileError(transform: "user/id") == nil)      // the existing tool's `user/id` = `/user/id`
        #expect(compileError(transform: "user name") == nil)
    }

    @Test func anObjectWithAValueMemberIsAnEnvelope() throws {
        // An unknown member beside `value` is a mistake (a misspelt envelope member, or a value
        // that itself has a `value` member, which is written {"value": {...}}).
        #expect(throws: DryRunRecord.ReadError.self) { try DryRunRecord(line: #"{"value":100.0,"divisor":0.0}"#) }
        let wrapped = try DryRunRecord(line: #"{"value":{"value":100.0,"divisor":0.0}}"#)
        #expect(wrapped.value.map { String(decoding: $0, as: UTF8.self) } == #"{"value":100.0,"divisor":0.0}"#)
        let envelope = try DryRunRecord(line: #"{"value":{"a":1},"key":"k"}"#)
        #expect(envelope.value.map { String(decoding: $0, as: UTF8.self) } == #"{"a":1}"#)
        #expect(throws: DryRunRecord.ReadError.self) { try DryRunRecord(line: #"{"value":{"a":1},"key":"k","heders":{"h":"v"}}"#) }
    }
}

@Suite struct CompatibilityConfigTests {
    func analyze(_ yaml: String) -> (config: StreamForgeConfig?, rendered: String) {
        let a = ConfigLoader.analyze(text: yaml, path: "c.yaml", environment: [:])
        return (a.config, a.diagnostics.rendered)
    }

    /// The guides' `routing_type: content` examples set no match_value (the tool fans out).
    @Test func contentRoutingWithoutMatchValues() throws {
        let fanOut = analyze("""
            appid: t
            bootstrap: localhost:9092
            input: events
            routing:
              routing_type: content
              destinations:
                - output: premium-orders
                  filter: "/order/total,>,500"
                - output: audit-log
            """)
        #expect(fanOut.config?.routing?.routingType == .filter, "\(fanOut.rendered)")
        #expect(fanOut.rendered.contains("warning: routing.routing_type: 'content' without 'path' or any 'match_value' is read as 'filter'"))

        let mixed = analyze("""
            appid: t
            bootstrap: localhost:9092
            input: events
            routing:
              routing_type: content
              path: /eventType
              destinations:
                - output: orders
                  match_value: order
                - output: audit
            """)
        let config = try #require(mixed.config, "\(mixed.rendered)")
        #expect(mixed.rendered.contains("warning: routing.destinations[1]: no 'match_value': this destination sees every record"),
                "\(mixed.rendered)")
        #expect(!mixed.rendered.contains("routing.destinations[0]"), "\(mixed.rendered)")
        let pipeline = try Pipeline(routing: try #require(config.routing))
        var rec = try DryRunRecord(line: #"{"eventType":"user"}"#)
        let results = rec.withInputRecord { pipeline.process($0) }
        #expect(results.count == 2)
        #expect(results[0] == .filtered)
        if case .produce = results[1] {} else { Issue.record("the destination without match_value sees every record") }
        rec.value = Array(#"{"eventType":"order"}"#.utf8)
        let both = rec.withInputRecord { pipeline.process($0) }
        if case .produce = both[0], case .produce = both[1] {} else { Issue.record("\(both)") }
    }

    @Test func keysTheExistingToolIgnoresLoadWithAWarning() throws {
        let r = analyze("""
            appid: t
            bootstrap: localhost:9092
            input: src
            x-common-consumer: &common
              fetch.min.bytes: "1048576"
            consumer_properties: *common
            partitioner_type: field
            error_handling:
              retry: 3
            routing:
              destinations:
                - output: dst
                  timestamp_transform: CURRENT
                  partition_field: /id
            """)
        let config = try #require(r.config, "\(r.rendered)")
        #expect(config.consumerProperties.contains { $0.key == "fetch.min.bytes" && $0.value == "1048576" })
        #expect(!r.rendered.contains("x-common"))
        #expect(r.rendered.contains("c.yaml:7:1: warning: 'partitioner_type' is ignored"))
        #expect(r.rendered.contains("warning: routing.destinations[0]: 'timestamp_transform' is ignored"))
        #expect(r.rendered.contains("hint: write 'partition: /json/pointer'"))
        #expect(!r.rendered.contains(": error:"))
        // A typo is still an error.
        #expect(analyze("appid: t\nbootstrap: b\ninput: i\noutput: o\ncomsumer_properties: {}\n").config == nil)
    }
}
