import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

/// SplitMix64: a seeded generator so every failure can be replayed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

@Suite struct PropertyTests {
    static let alphabet: [Character] = Array("ANDORTXEGHKYPSFIX_:,()'\"\\/=!<>~01 9.-*^$[]{}é€") + ["\u{0}", "\n"]
    static let tokens = ["AND:", "OR:", "NOT:", "(", ")", "/a", ",", "==", ">", "1", "'x'", ":", "REGEX:", "ARRAY_ANY:",
                         "KEY_PREFIX:", "HEADER:", "TRY:", "CONSTRUCT:", "a=/b", "STRING:", "UPPER", "HASH:", "MD5", "\"",
                         "\\", "{/x}", "FROM:", "ADD:", "EXISTS:", "''", "~", "~1"]

    static func dslLike(_ rng: inout SeededRandom) -> String {
        if Bool.random(using: &rng) {
            return String((0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        }
        return (0..<Int.random(in: 0...14, using: &rng)).map { _ in tokens.randomElement(using: &rng)! }.joined()
    }

    @Test func parserNeverCrashesOnArbitraryInput() {
        var rng = SeededRandom(seed: 0x5F0F)
        for _ in 0..<20_000 {
            let s = Self.dslLike(&rng)
            if let e = DSL.checkFilter(s) {
                #expect(e.offset >= 0 && e.offset <= s.utf8.count, "\(s)")
                #expect(e.column(in: s) >= 1)
            }
            if let e = DSL.checkTransform(s) {
                #expect(e.offset >= 0 && e.offset <= s.utf8.count, "\(s)")
            }
            var p = DSLParser(s)
            _ = try? p.parseKeyTransform()
            var q = DSLParser(s)
            _ = try? q.parseTimestamp()
            var h = DSLParser(s)
            _ = try? h.parseHeaderOperation()
        }
    }

    static func scalar(_ rng: inout SeededRandom) -> String {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return String(Int.random(in: -1_000_000...1_000_000, using: &rng))
        case 1: return "\"" + word(&rng) + "\""
        case 2: return ["true", "false", "null", "1.5e3", "\"a\\\"b\"", "\"\\u00e9\"", "[1, {\"q\": [] }]", "{}"].randomElement(using: &rng)!
        default: return "{\"in\": " + String(Int.random(in: 0...9, using: &rng)) + "}"
        }
    }

    static func word(_ rng: inout SeededRandom) -> String {
        String((0..<Int.random(in: 1...6, using: &rng)).map { _ in "abcxyz019".randomElement(using: &rng)! })
    }

    static func document(_ rng: inout SeededRandom) -> (String, [(String, String)]) {
        var fields: [(String, String)] = []
        for _ in 0..<Int.random(in: 0...6, using: &rng) { fields.append((word(&rng), scalar(&rng))) }
        let ws = [" ", "", "\n  "]
        let text = "{" + fields.map { "\"\($0.0)\"\(ws.randomElement(using: &rng)!):\(ws.randomElement(using: &rng)!)\($0.1)" }.joined(separator: ", ") + "}"
        return (text, fields)
    }

    @Test func destinationWithoutTransformsReturnsRecordUnchanged() throws {
        let pipeline = try Pipeline(routing: RoutingConfig(destinations: [
            DestinationConfig(output: "plain"),
            DestinationConfig(output: "filtered", filter: "OR:EXISTS:/x:NOT_EXISTS:/x"),
        ]))
        var rng = SeededRandom(seed: 42)
        for _ in 0..<2000 {
            var rec = try DryRunRecord(line: "{\"value_raw\":\"\"}")
            rec.value = Array(Self.document(&rng).0.utf8)
            rec.key = Bool.random(using: &rng) ? Array(Self.word(&rng).utf8) : nil
            rec.headers = (0..<Int.random(in: 0...3, using: &rng)).map { _ in (Self.word(&rng), Bool.random(using: &rng) ? Array(Self.word(&rng).utf8) : nil) }
            let results = rec.withInputRecord { pipeline.process($0) }
            for (i, r) in results.enumerated() {
                let expected = OutputRecord(topic: i == 0 ? "plain" : "filtered", key: .unchanged, value: .unchanged,
                                            headers: .unchanged, timestamp: nil, partition: .keyHash)
                #expect(r == .produce(expected))
            }
        }
    }

    @Test func scannerAgreesWithFullParse() throws {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<2000 {
            let (text, fields) = Self.document(&rng)
            let parsed = try JSONValue.parse(text)
            for f in fields {
                guard case .success(let ptr) = JSONPointer.parse("/" + f.0) else { continue }
                let got: JSONValue? = try Array(text.utf8).withUnsafeBytes { raw in
                    let s = JSONScanner(raw)
                    guard let span = try s.lookup(ptr, in: try s.root()) else { return nil }
                    return try JSONValue(scanner: s, span: span)
                }
                // Duplicate names: the scanner takes the first, as a pointer lookup reads it.
                let first = fields.first { $0.0 == f.0 }.map { try? JSONValue.parse($0.1) } ?? nil
                #expect(got == first, "\(text)")
                _ = parsed
            }
        }
    }

    /// The filter-only fast path (flattened filters, prebuilt results) and the general path
    /// give the same results, errors included, on random records and filters.
    @Test func fastPathAgreesWithGeneralPath() throws {
        var rng = SeededRandom(seed: 11)
        let ops = ["==", "!=", ">", ">=", "<", "<="]
        func condition(_ fields: [(String, String)], depth: Int) -> String {
            let name = fields.randomElement(using: &rng)?.0 ?? Self.word(&rng)
            let path = Bool.random(using: &rng) ? "/" + name : "/" + Self.word(&rng)
            switch Int.random(in: 0..<(depth > 1 ? 5 : 8), using: &rng) {
            case 0: return "EXISTS:\(path)"
            case 1: return "NOT_EXISTS:\(path)"
            case 2: return "KEY_PREFIX:a"
            case 3: return "REGEX:\(path),^[a-c]"
            case 4: return "\(path),\(ops.randomElement(using: &rng)!),\(Self.scalar(&rng))"
            case 5: return "AND:(\(condition(fields, depth: depth + 1))):(\(condition(fields, depth: depth + 1)))"
            case 6: return "OR:(\(condition(fields, depth: depth + 1))):(\(condition(fields, depth: depth + 1)))"
            default: return "NOT:(\(condition(fields, depth: depth + 1)))"
            }
        }
        for _ in 0..<600 {
            let (text, fields) = Self.document(&rng)
            var destinations: [DestinationConfig] = []
            for i in 0..<Int.random(in: 1...4, using: &rng) {
                destinations.append(DestinationConfig(output: "d\(i)", filter: Bool.random(using: &rng) || i == 0 ? condition(fields, depth: 0) : nil))
            }
            let routing = RoutingConfig(destinations: destinations)
            guard let fast = try? Pipeline(routing: routing) else { continue }
            var slowOptions = Pipeline.Options()
            slowOptions.fastPath = false
            let slow = try Pipeline(routing: routing, options: slowOptions)
            #expect(fast.fastFilters != nil)
            #expect(slow.fastFilters == nil)
            var rec = try DryRunRecord(line: "{\"value_raw\":\"\"}")
            // Now and then a broken or missing value, for the error results.
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: rec.value = Array(text.dropLast().utf8)
            case 1: rec.value = nil
            default: rec.value = Array(text.utf8)
            }
            rec.key = Bool.random(using: &rng) ? Array(Self.word(&rng).utf8) : nil
            let a = rec.withInputRecord { fast.process($0) }
            let b = rec.withInputRecord { slow.process($0) }
            #expect(a == b, "\(destinations.map { $0.filter ?? "-" }) on \(text)")
            // The same pipeline again: the prebuilt results are handed out, not modified.
            var reused: [DestinationResult] = []
            rec.withInputRecord { fast.process($0, into: &reused) }
            rec.withInputRecord { fast.process($0, into: &reused) }
            #expect(reused == b)
        }
    }
}
