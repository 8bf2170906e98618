import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

/// `streamforgectl test`: test files read, run through the compiled configuration, compared.
@Suite struct TestCaseTests {
    static let config: StreamForgeConfig = {
        let text = """
            appid: a
            bootstrap: b:9092
            input: orders
            routing:
              destinations:
                - output: premium
                  filter: /amount,>,100
                  transform: CONSTRUCT:id=/id:amount=/amount
                  key_transform: /id
                  headers: {x-src: sf}
                - output: calc
                  transform: ARITHMETIC:DIV,/amount,/n
                - output: users
                  transform: CACHE_LOOKUP:/id,names,name
                - output: names
                  filter: EXISTS:/name
                  transform: CACHE_PUT:/id,names,/name
            """
        return try! ConfigLoader.parse(text: text, path: "c.yaml", environment: [:])
    }()

    func run(_ text: String, path: String = "t.yaml", partitions: Int32? = nil) throws -> Result<[TestCaseResult], ConfigDiagnostics> {
        switch TestFile.parse(text: text, path: path) {
        case .failure(let d): return .failure(d)
        case .success(let file): return try TestRunner.run(file, config: Self.config, now: 1_700_000_000_000, partitionCount: { _ in partitions })
        }
    }

    func results(_ text: String, path: String = "t.yaml", partitions: Int32? = nil) throws -> [TestCaseResult] {
        switch try run(text, path: path, partitions: partitions) {
        case .success(let r): return r
        case .failure(let d): Issue.record("unexpected problems: \(d.rendered)"); return []
        }
    }

    @Test func passingCasesCompareOnlyWhatTheyName() throws {
        let r = try results("""
            tests:
              - name: reshaped and keyed
                input: {value: {id: o1, amount: 150, n: 3}, key: k1, headers: [[h, "1"]]}
                expect:
                  premium: {key: o1, value: {amount: 150, id: o1}, headers: [[h, "1"], [x-src, sf]], topic: premium, timestamp: 1700000000000}
                  calc: {value: 50.0, key: k1}
              - name: errors and filters
                input: {id: o2, amount: 5, n: 0}
                expect:
                  premium: filtered
                  calc: {error: transform, policy: dlq, message: division by zero}
            """)
        #expect(r.map(\.passed) == [true, true])
    }

    @Test func aMismatchIsReportedAsExpectedAndActual() throws {
        let r = try results("""
            tests:
              - name: wrong
                input: {id: o2, amount: 500, n: 0}
                expect:
                  premium: {value: {id: o2}}
                  calc: filtered
                  users: {error: transform}
            """)
        #expect(r.first?.passed == false)
        let m = r.first?.mismatches ?? []
        #expect(m.map(\.what) == ["premium.value", "calc", "users"])
        #expect(m.first?.expected == #"{"id":"o2"}"#)
        #expect(m.first?.actual == #"{"id":"o2","amount":500}"#)
        #expect(m[1].actual.contains(#""error":"ARITHMETIC: division by zero""#))
        let report = TestRunner.report(r, file: "t.yaml")
        #expect(report.hasPrefix("FAIL wrong (t.yaml:2)\n  record 1, premium.value:\n    - expected: {\"id\":\"o2\"}\n    + actual:   {\"id\":\"o2\",\"amount\":500}\n"))
        #expect(report.hasSuffix("t.yaml: 1 test, 0 passed, 1 failed\n"))
    }

    @Test func inputsRunInOrderOnOnePipeline() throws {
        // The cache filled by the first record is read by the second; a new case starts empty.
        let text = """
            tests:
              - name: put then look up
                inputs: [{id: u1, name: Ada}, {id: u1}]
                expect:
                  - {names: {value: {id: u1, name: Ada}}}
                  - {users: {value: {id: u1, name: Ada}}, names: filtered}
              - name: a fresh pipeline
                input: {id: u1}
                expect:
                  users: {value: {id: u1}}
            """
        #expect(try results(text).map(\.passed) == [true, true])
    }

    @Test func partitionsAreComparedWithTheGivenCount() throws {
        let p = Murmur2.partition(forKey: Array("o1".utf8), partitionCount: 6)
        let text = "partitions: 6\ntests:\n  - input: {id: o1, amount: 150}\n    expect: {premium: {partition: \(p)}}\n"
        #expect(try results(text).first?.passed == true)
        let other = "partitions: 6\ntests:\n  - input: {id: o1, amount: 150}\n    expect: {premium: {partition: \((p + 1) % 6)}}\n"
        #expect(try results(other).first?.passed == false)
        // Without a count the partition is unknown, and the mismatch says why.
        let unknown = try results("tests:\n  - input: {id: o1, amount: 150}\n    expect: {premium: {partition: \(p)}}\n")
        #expect(unknown.first?.mismatches.first?.actual.contains("pass --partitions N") == true)
    }

    @Test func valuesCompareAsJSONNumbersByValueMembersInAnyOrder() {
        func eq(_ a: String, _ b: String) -> Bool { TestRunner.jsonEqual(try! JSONValue.parse(a), try! JSONValue.parse(b)) }
        #expect(eq(#"{"a":1,"b":[1.50,"x"]}"#, #"{"b":[1.5,"x"],"a":1.0}"#))
        #expect(eq("12345678901234567890123", "12345678901234567890123.0"))
        #expect(!eq("12345678901234567890123", "12345678901234567890124"))
        #expect(!eq(#"{"a":1}"#, #"{"a":1,"b":2}"#))
        #expect(!eq(#"[1,2]"#, #"[2,1]"#))
        #expect(!eq(#""1""#, "1"))
    }

    @Test func jsonTestFilesWork() throws {
        let r = try results(#"{"tests": [{"name": "j", "input": {"value": {"id": "o1", "amount": 150}}, "expect": {"premium": {"key": "o1"}}}]}"#,
                            path: "t.json")
        #expect(r.map(\.passed) == [true])
    }

    @Test func malformedTestFilesAreLocatedErrors() throws {
        func problems(_ text: String) throws -> [Diagnostic] {
            if case .failure(let d) = try run(text) { return d.diagnostics }
            return []
        }
        let typo = try problems("tests:\n  - name: x\n    inptu: 1\n    expect: {}\n")
        #expect(typo.first?.line == 3)
        #expect(typo.first?.column == 5)
        #expect(typo.first?.message == "unknown key 'inptu' in a test case")
        #expect(typo.first?.hint == "did you mean 'input'?")
        let dest = try problems("tests:\n  - name: x\n    input: 1\n    expect: {premiun: filtered}\n")
        #expect(dest.first?.message == "case 'x': no destination 'premiun' in the configuration")
        #expect(dest.first?.hint == "did you mean 'premium'?")
        #expect(dest.first?.line == 4)
        let counts = try problems("tests:\n  - inputs: [1, 2]\n    expect: [{}]\n")
        #expect(counts.first?.message.contains("one entry per record (2)") == true)
        let mixed = try problems("tests:\n  - input: 1\n    expect: {premium: {error: transform, key: k}}\n")
        #expect(mixed.first?.message.contains("'key' describes a produced record") == true)
        #expect(try problems("").first?.message == "the test file is empty")
    }
}
