import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

/// The scanner's vectorised loops (16 bytes at a time) against byte-at-a-time reference
/// versions written here, on random text with quotes, escapes, brackets and whitespace placed
/// on every side of the 8- and 16-byte block edges.
@Suite struct ScannerTests {
    static let pieces: [String] = ["a", "bc", "é", "\\\"", "\\\\", "\\n", "\\u00e9", " ", "\t", "0123456789abcde", "xyzw"]
    /// Without backslashes: long runs of these take the 64-byte block path of the container skip.
    static let plainPieces: [String] = ["a", "bc", "é", " ", "{", "}", "[", "]", ",", ":", "0123456789abcde", "xyzw"]

    /// A JSON string body (no closing quote) of random length.
    static func stringBody(_ rng: inout SeededRandom, escapes: Bool = true) -> String {
        var s = ""
        let target = Int.random(in: 0...40, using: &rng)
        let from = escapes ? pieces : plainPieces
        while s.utf8.count < target { s += from.randomElement(using: &rng)! }
        return s
    }

    /// A random JSON value, with optional whitespace between tokens.
    static func value(_ rng: inout SeededRandom, depth: Int = 0, spaced: Bool, escapes: Bool = true) -> String {
        let sp = spaced ? [" ", "", "\n ", ""].randomElement(using: &rng)! : ""
        switch Int.random(in: 0..<(depth > 3 ? 3 : 5), using: &rng) {
        case 0: return "\"" + stringBody(&rng, escapes: escapes) + "\""
        case 1: return String(Int.random(in: -99_999_999...99_999_999, using: &rng)) + ["", ".25", "e3"].randomElement(using: &rng)!
        case 2: return ["true", "false", "null"].randomElement(using: &rng)!
        case 3:
            let items = (0..<Int.random(in: 0...4, using: &rng)).map { _ in value(&rng, depth: depth + 1, spaced: spaced, escapes: escapes) }
            return "[" + sp + items.joined(separator: sp + "," + sp) + sp + "]"
        default:
            let members = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                "\"" + stringBody(&rng, escapes: escapes) + "\"" + sp + ":" + sp + value(&rng, depth: depth + 1, spaced: spaced, escapes: escapes)
            }
            return "{" + sp + members.joined(separator: "," + sp) + sp + "}"
        }
    }

    static func refStringEnd(_ b: [UInt8], _ i: Int) -> (Int, Bool) {
        var p = i + 1, escaped = false
        while p < b.count {
            if b[p] == 0x22 { return (p + 1, escaped) }
            if b[p] == 0x5C { escaped = true; p += 2 } else { p += 1 }
        }
        return (-1, escaped)
    }

    static func refContainerEnd(_ b: [UInt8], _ i: Int) -> Int {
        var depth = 0, p = i
        while p < b.count {
            switch b[p] {
            case 0x22:
                p = refStringEnd(b, p).0
                if p < 0 { return -1 }
                continue
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D:
                depth -= 1
                if depth == 0 { return p + 1 }
            default: break
            }
            p += 1
        }
        return -1
    }

    static func refCompact(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], p = 0
        while p < b.count {
            if b[p] == 0x22 {
                let e = refStringEnd(b, p).0
                out += b[p..<e]
                p = e
            } else {
                if ![0x20, 0x0A, 0x0D, 0x09].contains(b[p]) { out.append(b[p]) }
                p += 1
            }
        }
        return out
    }

    @Test func stringEndsMatchTheReference() {
        var rng = SeededRandom(seed: 0x5CA7)
        for _ in 0..<20_000 {
            let prefix = String(repeating: "x", count: Int.random(in: 0...17, using: &rng))
            let terminated = Int.random(in: 0..<8, using: &rng) != 0
            let text = prefix + "\"" + Self.stringBody(&rng) + (terminated ? "\"" : "") + String(repeating: "y", count: Int.random(in: 0...20, using: &rng))
            let bytes = Array(text.utf8)
            let start = prefix.utf8.count
            let (want, wantEscaped) = Self.refStringEnd(bytes, start)
            bytes.withUnsafeBytes { raw in
                let s = JSONScanner(raw)
                var escaped = false
                let got = s.fastKeyEnd(start, escaped: &escaped)
                #expect(got == want, "\(text)")
                #expect(s.fastStringEnd(start) == want, "\(text)")
                if want >= 0 { #expect(escaped == wantEscaped, "\(text)") }
            }
        }
    }

    @Test func containerSkipsMatchTheReference() {
        var rng = SeededRandom(seed: 0xB4AC)
        for n in 0..<20_000 {
            var text = Self.value(&rng, spaced: n % 4 == 0, escapes: n % 2 == 0)
            guard let first = text.utf8.first, first == 0x7B || first == 0x5B else { continue }
            if n % 7 == 0 { text.removeLast(Int.random(in: 1...min(3, text.utf8.count), using: &rng)) }
            let bytes = Array(text.utf8)
            let want = Self.refContainerEnd(bytes, 0)
            bytes.withUnsafeBytes { raw in
                let s = JSONScanner(raw)
                #expect(s.fastSkipOpen(1, depth: 1) == want, "\(text)")
                #expect(s.fastValueEnd(0) == want, "\(text)")
            }
        }
    }

    @Test func compactCopiesMatchTheReference() {
        var rng = SeededRandom(seed: 0xC0DE)
        for _ in 0..<5_000 {
            let text = Self.value(&rng, spaced: true)
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { raw in
                let s = JSONScanner(raw)
                var out: [UInt8] = [0x21]
                s.appendCompact(JSONSpan(start: 0, end: bytes.count), to: &out)
                #expect(out == [0x21] + Self.refCompact(bytes), "\(text)")
            }
        }
    }

    @Test func numberEndsMatchTheReference() {
        var rng = SeededRandom(seed: 0x0D16)
        for _ in 0..<10_000 {
            let digits = String((0..<Int.random(in: 1...30, using: &rng)).map { _ in "0123456789".randomElement(using: &rng)! })
            let tail = ["", ",", "}", " ", "x", "\u{7F}", "\u{FF}", "/", ":", "é"].randomElement(using: &rng)!
            let text = "-" + (digits.first == "0" ? "1" + digits : digits) + tail + "123"
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { raw in
                let s = JSONScanner(raw)
                let want = 1 + (digits.first == "0" ? digits.count + 1 : digits.count)
                #expect(s.fastNumberEnd(0) == want + (tail.isEmpty ? 3 : 0), "\(text)")
            }
        }
    }
}

/// The pipeline refills the previous record's result in place only when nothing else holds it.
@Suite struct ResultRecyclingTests {
    static func value(_ r: DestinationResult) -> String? {
        guard case .produce(let o) = r, case .bytes(let b?) = o.value else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    @Test func aResultKeptByTheCallerIsNeverOverwritten() throws {
        let pipeline = try Pipeline(routing: RoutingConfig(destinations: [
            DestinationConfig(output: "a", transform: "CONSTRUCT:id=/id:n=/name"),
            DestinationConfig(output: "b", filter: "/id,>,1", transform: "/name"),
        ]))
        var results: [DestinationResult] = []
        func run(_ json: String) {
            Array(json.utf8).withUnsafeBytes { raw in
                pipeline.process(InputRecord(topic: "t", partition: 0, offset: 0, key: nil, value: raw, timestamp: 1), into: &results)
            }
        }
        run(#"{"id":1,"name":"first record, long enough to need its own buffer"}"#)
        let kept = results
        #expect(Self.value(kept[0]) == #"{"id":1,"n":"first record, long enough to need its own buffer"}"#)
        #expect(kept[1] == .filtered)
        run(#"{"id":2,"name":"second"}"#)
        #expect(Self.value(kept[0]) == #"{"id":1,"n":"first record, long enough to need its own buffer"}"#)
        #expect(Self.value(results[0]) == #"{"id":2,"n":"second"}"#)
        #expect(Self.value(results[1]) == #""second""#)
        // Refilled in place (nothing else holds them now): each value is still exact, longer or shorter.
        for (i, name) in ["x", String(repeating: "y", count: 300), "", "z"].enumerated() {
            run(#"{"id":\#(i + 2),"name":"\#(name)"}"#)
            #expect(Self.value(results[0]) == #"{"id":\#(i + 2),"n":"\#(name)"}"#)
            #expect(Self.value(results[1]) == #""\#(name)""#)
        }
        let copy = results[0]
        run(#"{"id":0,"name":"last"}"#)
        #expect(Self.value(copy) == #"{"id":5,"n":"z"}"#)
        #expect(Self.value(results[0]) == #"{"id":0,"n":"last"}"#)
        #expect(results[1] == .filtered)
    }
}

/// Setting a member copies the untouched members of a compact record as runs of its bytes; a
/// record with whitespace is rewritten member by member. Both must give the same output.
@Suite struct SetMemberTests {
    static let records = [
        #"{"a":1,"b":{"c":[1,2,{"d":"x"}]},"name":"Ann","z":null}"#,
        #"{"name":"Ann"}"#,
        #"{"a":"first","name":"Ann","name":"dup","b":2}"#,
        #"{"n\u0061me":"escaped","a":[]}"#,
        #"{"a":{"name":"nested"},"b":"no name here"}"#,
        #"{"a":"x, y: {z}","b":"q\"uo\\te","name":"Bob"}"#,
        #"{"ab":1,"name":"C","names":2}"#,
    ]

    /// The record with a space or newline around every structural character outside strings.
    static func spaced(_ json: String) -> String {
        var out = "", inString = false, escaped = false
        for c in json {
            if inString {
                out.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                continue
            }
            if c == "\"" { inString = true; out.append(c); continue }
            out += "{}[],:".contains(c) ? " \(c)\n" : String(c)
        }
        return out
    }

    @Test func compactAndSpacedRecordsGiveTheSameOutput() throws {
        for transform in ["STRING:UPPER,/name,name", "STRING:LOWER,/name,out", "HASH:MD5,/name,name", "STRING:CONCAT,name,x-,/a"] {
            for record in Self.records where transform.hasPrefix("STRING:CONCAT") || !record.hasPrefix(#"{"a":{"name""#) {
                let compact = try transformed(transform, record)
                #expect(compact.hasPrefix("{"), "\(transform) on \(record): \(compact)")
                #expect(try transformed(transform, Self.spaced(record)) == compact, "\(transform) on \(record)")
            }
        }
        #expect(try transformed("STRING:UPPER,/name,name", Self.records[0]) == #"{"a":1,"b":{"c":[1,2,{"d":"x"}]},"name":"ANN","z":null}"#)
        #expect(try transformed("STRING:UPPER,/name,name", Self.records[2]) == #"{"a":"first","name":"ANN","b":2}"#)
        #expect(try transformed("STRING:UPPER,/name,out", Self.records[2]) == #"{"a":"first","name":"Ann","name":"dup","b":2,"out":"ANN"}"#)
        #expect(try transformed("STRING:CONCAT,name,x-,/b", Self.records[4]) == #"{"a":{"name":"nested"},"b":"no name here","name":"x-no name here"}"#)
        #expect(try transformed("STRING:UPPER,/name,name", Self.records[3]) == #"{"n\u0061me":"ESCAPED","a":[]}"#)
        #expect(try transformed("STRING:CONCAT,name,x", "{}") == #"{"name":"x"}"#)
        #expect(try transformed("STRING:CONCAT,name,x", " { }") == #"{"name":"x"}"#)
    }
}

/// Setting a member on an unchecked compact record checks it in the same pass: it must refuse
/// exactly what the full validator refuses, at any byte.
@Suite struct CheckedRootWriteTests {
    @Test func oneMemberPassRefusesWhatTheValidatorRefuses() throws {
        var rng = SeededRandom(seed: 0x5E7)
        let junk: [UInt8] = Array("{}[],:\" x1-.e\\tn".utf8)
        var refused = 0
        for n in 0..<3_000 {
            var text: String
            repeat { text = ScannerTests.value(&rng, spaced: n % 5 == 0) } while !text.hasPrefix("{")
            var bytes = Array(text.utf8)
            if n % 3 != 0 {
                // One byte replaced, inserted or removed somewhere.
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[at] = junk.randomElement(using: &rng)!
                case 1: bytes.insert(junk.randomElement(using: &rng)!, at: at)
                default: bytes.remove(at: at)
                }
            }
            let record = String(decoding: bytes, as: UTF8.self)
            guard Array(record.utf8) == bytes else { continue }
            let valid = bytes.withUnsafeBytes { raw -> Bool in
                (try? JSONScanner(raw).validate()) != nil
            }
            let out = try transformed("STRING:CONCAT,zz,x", record)
            if valid && record.first == "{" {
                #expect(out.hasPrefix("{") && out.hasSuffix(#""zz":"x"}"#), "\(record) -> \(out)")
                #expect(try transformed("STRING:CONCAT,zz,x", SetMemberTests.spaced(record)) == out, "\(record)")
            } else if !valid {
                refused += 1
                #expect(out == "error:malformed_json" || out == record, "\(record) -> \(out)")
            }
        }
        #expect(refused > 500)
    }
}

/// The nesting limit (512 containers, the root included) is the same whether a record is checked
/// whole or checked member by member while a field is set.
@Suite struct NestingLimitTests {
    static func nested(_ levels: Int, spaced: Bool) -> String {
        let open = String(repeating: "[", count: levels), close = String(repeating: "]", count: levels)
        return spaced ? #"{ "a": "# + open + close + " }" : #"{"a":"# + open + close + "}"
    }

    @Test func bothPathsStopAtTheSameDepth() throws {
        for spaced in [false, true] {
            let inside = try transformed("STRING:CONCAT,zz,x", Self.nested(511, spaced: spaced))
            #expect(inside.hasSuffix(#""zz":"x"}"#), "511 levels inside the root, spaced: \(spaced)")
            #expect(try transformed("STRING:CONCAT,zz,x", Self.nested(512, spaced: spaced)) == "error:malformed_json",
                    "512 levels inside the root, spaced: \(spaced)")
        }
    }
}

extension NestingLimitTests {
    /// Whether the one-loop validator and the recursive one (which explains a refusal) accept
    /// `text`, and the recursive one's message.
    static func validators(_ text: String) -> (fast: Bool, slow: Bool, message: String?) {
        Array(text.utf8).withUnsafeBytes { raw in
            let s = JSONScanner(raw)
            let fast = s.fastValidate(0) == raw.count
            do throws(JSONScanError) {
                try s.slowValidate()
                return (fast, true, nil)
            } catch {
                return (fast, false, error.message)
            }
        }
    }

    /// Both validators count containers, not values: a scalar inside the 512th container is
    /// within the limit, a 513th container is not (found by fuzz-json, which compares them).
    @Test func bothValidatorsCountContainersNotValues() {
        let open = String(repeating: "[", count: 512), close = String(repeating: "]", count: 512)
        for inside in ["1", "\"x\"", "null", "{}", "[]"] {
            let v = Self.validators(open + inside + close)
            let within = inside != "{}" && inside != "[]"
            #expect(v.fast == within && v.slow == within, "512 containers around \(inside)")
            if !within { #expect(v.message == "nesting too deep") }
        }
        // Something else wrong after the deepest scalar is reported as that, not as depth.
        let trailing = Self.validators(open + "1" + close + "]")
        #expect(!trailing.fast && trailing.message == "unexpected data after the JSON value")
    }
}

@Suite struct RecycledBufferTests {
    /// A value buffer is handed back for refilling with its capacity, unless it is above 1 MiB
    /// or something else still holds it.
    @Test func onlySmallUnsharedBuffersAreKept() {
        func record(_ n: Int) -> OutputRecord {
            OutputRecord(topic: "t", key: .unchanged, value: .bytes([UInt8](repeating: 0x61, count: n)), headers: .unchanged,
                         timestamp: nil, partition: .keyHash)
        }
        var small = record(1000)
        let buffer = small.takeValueBuffer()
        #expect(buffer?.isEmpty == true && (buffer?.capacity ?? 0) >= 1000)
        #expect(small.value == .unchanged)
        var large = record(2 << 20)
        #expect(large.takeValueBuffer() == nil)
        var shared = record(10)
        let held = shared
        #expect(shared.takeValueBuffer() == nil)
        #expect(held.value == .bytes([UInt8](repeating: 0x61, count: 10)))
    }
}
