// libFuzzer target: the filter/transform language as it appears in a configuration. The input
// is up to six language strings, one per line (filter, transform, key_transform, partition,
// timestamp, one header transform; an empty line is an absent key), then a record value.
//
// Compiling must only ever return errors (with a column inside the string). A configuration
// that compiles runs on the record and on fixed sample records, three ways that must agree:
// the filter fast path against the general path (identical results), and compact against
// spaced JSON (the same decisions and the same output after whitespace is dropped).
//
// Written here because the properties are StreamForge's own (its language, its two paths);
// libFuzzer only supplies the inputs. `make fuzz` runs it (scripts/fuzz.sh).

@testable import StreamForgeCore
@testable import StreamForgeIPC
@testable import StreamForgeLanguage

func failure(_ what: String, _ input: String) -> Never {
    fatalError("\(what)\ninput: \(String(input.prefix(400)).debugDescription)")
}

/// Whitespace outside strings removed (outputs are compared with it).
func compact(_ b: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var inString = false, escaped = false
    for c in b {
        if inString {
            if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
            out.append(c)
        } else if c == 0x22 {
            inString = true
            out.append(c)
        } else if c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 {
            out.append(c)
        }
    }
    return out
}

/// The same JSON with whitespace after every `{`, `[`, `,` and `:` outside strings.
func spaced(_ b: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x20]
    var inString = false, escaped = false
    for c in b {
        out.append(c)
        if inString {
            if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
        } else if c == 0x22 {
            inString = true
        } else if c == 0x7B || c == 0x5B || c == 0x2C || c == 0x3A {
            out += [0x0A, 0x20, 0x09]
        }
    }
    out.append(0x0A)
    return out
}

/// What a result means, without the timestamp (`CURRENT` reads the clock) and, when
/// `loose`, with values and keys compacted and error messages left out.
func normalized(_ results: [DestinationResult], loose: Bool) -> [String] {
    results.map { r in
        switch r {
        case .filtered: return "filtered"
        case .failed(let e): return loose ? "failed \(e.kind)" : "failed \(e.kind) \(e.message)"
        case .produce(let o):
            func text(_ b: [UInt8]?) -> String {
                guard let b else { return "null" }
                return String(decoding: loose ? compact(b) : b, as: UTF8.self).debugDescription
            }
            let value: String
            switch o.value {
            case .unchanged: value = loose ? "same" : "unchanged"
            case .bytes(let b): value = text(b)
            }
            let key: String
            switch o.key {
            case .unchanged: key = "unchanged"
            case .bytes(let b): key = text(b)
            }
            return "produce \(o.topic) key=\(key) value=\(value) headers=\(o.headers) partition=\(o.partition)"
        }
    }
}

let sampleRecords: [String] = [
    #"{"user":{"name":"Alice","id":"user-123","email":"alice@example.com"},"amount":150,"status":"active","items":[{"sku":"A","qty":1},{"sku":"B","qty":0}],"order":{"subtotal":100.50,"shipping":9.99},"s":"a-b-c","first":"Ada","last":"Lovelace","tenant":"eu","ts":1704067200000,"n":null,"ok":true}"#,
    #"{"id":7,"name":"x\u00e9\"y","tags":["a","b"],"nested":{"deep":[1,2,{"k":"v"}]},"amount":"12.5"}"#,
    #"[1,"two",{"three":3}]"#,
    #"{"a":1,"b":[1,}"#,
]

func run(_ line: String?) -> String? {
    guard let line, !line.isEmpty else { return nil }
    return line
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLanguage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var lines = input.split(separator: "\n", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
    while lines.count < 7 { lines.append("") }
    let filter = run(lines[0]), transform = run(lines[1]), key = run(lines[2])
    let partition = run(lines[3]), timestamp = run(lines[4]), header = run(lines[5])
    let record = lines[6]

    // Single strings: an error, never a crash, and a column inside the string.
    for (text, isFilter) in [(filter, true), (transform, false), (key, false)] {
        guard let text else { continue }
        if let e = isFilter ? DSL.checkFilter(text) : DSL.checkTransform(text) {
            if e.offset < 0 || e.offset > text.utf8.count { failure("error offset \(e.offset) outside the string", input) }
            _ = e.caret(in: text)
        }
    }

    var destination = DestinationConfig(output: "out-{source_topic}", filter: filter, transform: transform, keyTransform: key,
                                        timestamp: timestamp, partition: partition.map { $0 == "preserve" ? .preserve : .field($0) } ?? .keyHash)
    if let header { destination.headerTransforms = [HeaderTransformSpec(header: "x-h", operation: header)] }
    let routing = RoutingConfig(destinations: [destination, DestinationConfig(output: "plain", filter: filter)])
    var general = Pipeline.Options()
    general.fastPath = false
    let pipelines: [Pipeline]
    do {
        pipelines = [try Pipeline(routing: routing), try Pipeline(routing: routing, options: general), try Pipeline(routing: routing)]
    } catch {
        for e in error.errors where e.column < 1 || e.column > e.source.count + 1 {
            failure("column \(e.column) outside \(e.source.debugDescription)", input)
        }
        _ = error.description
        return 0
    }

    let key42 = Array("user-42".utf8), tenant = Array("prod".utf8), prio = Array("7".utf8)
    func process(_ p: Pipeline, _ value: [UInt8]?) -> [DestinationResult] {
        key42.withUnsafeBytes { k in
            tenant.withUnsafeBytes { t in
                prio.withUnsafeBytes { h in
                    func go(_ v: UnsafeRawBufferPointer?) -> [DestinationResult] {
                        p.process(InputRecord(topic: "orders", partition: 3, offset: 42, key: k, value: v,
                                              headers: [("x-tenant", t), ("x-prio", h), ("x-null", nil)], timestamp: 1_704_067_200_000))
                    }
                    guard let value else { return go(nil) }
                    return value.withUnsafeBytes { go($0) }
                }
            }
        }
    }

    for text in [record] + sampleRecords + [nil] {
        let value = text.map { Array($0.utf8) }
        let fast = process(pipelines[0], value), slow = process(pipelines[1], value)
        if normalized(fast, loose: false) != normalized(slow, loose: false) {
            failure("fast path \(normalized(fast, loose: false)) != general path \(normalized(slow, loose: false)) on \(text ?? "null")", input)
        }
        // Every record goes through the third pipeline too, so that its caches hold what the
        // others' hold; only well-formed records are compared (spacing moves error offsets).
        let other = process(pipelines[2], value.map(spaced))
        guard let value, value.withUnsafeBytes({ (try? JSONScanner($0).validate()) != nil }) else { continue }
        if normalized(fast, loose: true) != normalized(other, loose: true) {
            failure("compact \(normalized(fast, loose: true)) != spaced \(normalized(other, loose: true)) on \(text ?? "null")", input)
        }
    }
    return 0
}
