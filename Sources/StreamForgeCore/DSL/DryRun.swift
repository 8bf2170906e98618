// `streamforgectl dry-run`: records from JSON lines through the same compiled pipeline as the
// daemon, printed deterministically.
//
// Each input line is either an envelope object with a `value` member:
//   {"value": <JSON or null>, "key": "k", "headers": {"h": "v"} | [["h","v"]],
//    "timestamp": 1700000000000, "topic": "t", "partition": 0, "offset": 0}
// (`value_raw: "text"` instead of `value` gives raw, possibly non-JSON, bytes), or any other
// JSON value, which is taken as the record's value. Blank lines and lines starting with `#` are
// skipped.

public enum DryRun {
    public static func run(pipeline: Pipeline, routing: RoutingConfig, input: some Sequence<String>) -> String {
        var out = ""
        var results: [DestinationResult] = []
        var n = 0
        for (lineNumber, line) in input.enumerated() {
            let trimmed = line.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            n += 1
            let parsed: DryRunRecord
            do {
                parsed = try DryRunRecord(line: trimmed)
            } catch {
                out += "record \(n) (line \(lineNumber + 1)): unable to read record: \(error.message)\n"
                continue
            }
            out += "record \(n) (topic=\(parsed.topic) partition=\(parsed.partition) offset=\(parsed.offset))\n"
            parsed.withInputRecord { record in
                pipeline.process(record, into: &results)
            }
            for (i, r) in results.enumerated() {
                let d = i < routing.destinations.count ? routing.destinations[i] : nil
                let name = d?.output ?? "?"
                switch r {
                case .filtered:
                    out += "  [\(i)] \(name): filtered\n"
                case .failed(let e):
                    let policy = d?.errorPolicy.rawValue ?? "dlq"
                    out += "  [\(i)] \(name): error \(e.kind.rawValue): \(e.message) (policy: \(policy))\n"
                case .produce(let o):
                    out += "  [\(i)] \(name): produce to \(o.topic)\n"
                    let key: [UInt8]?
                    switch o.key { case .unchanged: key = parsed.key; case .bytes(let b): key = b }
                    out += "      key: \(show(key))\n"
                    let value: [UInt8]?
                    switch o.value { case .unchanged: value = parsed.value; case .bytes(let b): value = b }
                    out += "      value: \(value.map { String(decoding: $0, as: UTF8.self) } ?? "null (tombstone)")\n"
                    let headers: [(name: String, value: [UInt8]?)]
                    switch o.headers { case .unchanged: headers = parsed.headers; case .replaced(let h): headers = h }
                    var hv: [UInt8] = []
                    JSONValue.array(headers.map { .array([.string($0.name), $0.value.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null]) }).write(to: &hv)
                    out += "      headers: \(String(decoding: hv, as: UTF8.self))\n"
                    out += "      timestamp: " + (o.timestamp.map { "\($0)" } ?? "\(parsed.timestamp) (source)") + "\n"
                    switch o.partition {
                    case .keyHash: out += "      partition: murmur2 of the key\n"
                    case .preserve: out += "      partition: \(parsed.partition) (source)\n"
                    case .hash(let b): out += "      partition: murmur2 of \(show(b))\n"
                    }
                }
            }
        }
        return out
    }

    static func show(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "null" }
        var out: [UInt8] = []
        JSONValue.writeStringBytes(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

struct DryRunRecord {
    var topic = "input"
    var partition: Int32 = 0
    var offset: Int64 = 0
    var key: [UInt8]?
    var value: [UInt8]?
    var headers: [(name: String, value: [UInt8]?)] = []
    var timestamp: Int64 = 0

    struct ReadError: Error { var message: String }

    static let envelopeKeys: Set<String> = ["value", "value_raw", "key", "headers", "timestamp", "topic", "partition", "offset"]

    init(line: String) throws(ReadError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(line)
        } catch {
            throw ReadError(message: "not JSON (byte \(error.offset): \(error.message)); write the record's value as JSON, or {\"value_raw\": \"...\"}")
        }
        // An envelope has a value and nothing but envelope members; any other object with a
        // `value` member (such as `{"value": 100.0, "divisor": 0}`) is the record's value itself,
        // unless it also has another envelope member: then an unknown member is a misspelling.
        guard case .object(let members) = json, members.contains(where: { $0.key == "value" || $0.key == "value_raw" }),
              members.allSatisfy({ DryRunRecord.envelopeKeys.contains($0.key) })
                || members.contains(where: { !["value", "value_raw"].contains($0.key) && DryRunRecord.envelopeKeys.contains($0.key) }) else {
            value = json.serialized()
            return
        }
        for m in members {
            switch m.key {
            case "value": value = m.value == .null ? nil : m.value.serialized()
            case "value_raw":
                guard case .string(let s) = m.value else { throw ReadError(message: "value_raw must be a string") }
                value = Array(s.utf8)
            case "key":
                switch m.value {
                case .null: key = nil
                case .string(let s): key = Array(s.utf8)
                default: key = m.value.serialized()
                }
            case "headers":
                switch m.value {
                case .object(let hs):
                    headers = try hs.map { (h) throws(ReadError) in (h.key, try DryRunRecord.headerValue(h.value)) }
                case .array(let items):
                    for item in items {
                        guard case .array(let pair) = item, pair.count == 2, case .string(let name) = pair[0] else {
                            throw ReadError(message: "headers as a list must hold [name, value] pairs")
                        }
                        headers.append((name, try DryRunRecord.headerValue(pair[1])))
                    }
                default: throw ReadError(message: "headers must be an object or a list of [name, value]")
                }
            case "timestamp":
                guard case .number(let t) = m.value, let v = Int64(t) else { throw ReadError(message: "timestamp must be an integer (epoch ms)") }
                timestamp = v
            case "topic":
                guard case .string(let t) = m.value else { throw ReadError(message: "topic must be a string") }
                topic = t
            case "partition":
                guard case .number(let t) = m.value, let v = Int32(t) else { throw ReadError(message: "partition must be an integer") }
                partition = v
            case "offset":
                guard case .number(let t) = m.value, let v = Int64(t) else { throw ReadError(message: "offset must be an integer") }
                offset = v
            default:
                throw ReadError(message: "unknown field '\(m.key)' (expected value, value_raw, key, headers, timestamp, topic, partition, offset)")
            }
        }
    }

    static func headerValue(_ v: JSONValue) throws(ReadError) -> [UInt8]? {
        switch v {
        case .null: return nil
        case .string(let s): return Array(s.utf8)
        default: return v.serialized()
        }
    }

    func withInputRecord<R>(_ body: (InputRecord) -> R) -> R {
        // The buffers stay alive for the call; headers are copied into one arena first.
        let keyCopy = key ?? []
        let valueCopy = value ?? []
        return keyCopy.withUnsafeBytes { kb in
            valueCopy.withUnsafeBytes { vb in
                var arena: [UInt8] = []
                var ranges: [(String, Range<Int>?)] = []
                for h in headers {
                    if let v = h.value {
                        ranges.append((h.name, arena.count..<(arena.count + v.count)))
                        arena.append(contentsOf: v)
                    } else {
                        ranges.append((h.name, nil))
                    }
                }
                return arena.withUnsafeBytes { ab in
                    let hs: [(name: String, value: UnsafeRawBufferPointer?)] = ranges.map { r in
                        (r.0, r.1.map { UnsafeRawBufferPointer(rebasing: ab[$0]) })
                    }
                    let rec = InputRecord(topic: topic, partition: partition, offset: offset,
                                          key: key == nil ? nil : kb, value: value == nil ? nil : vb,
                                          headers: hs, timestamp: timestamp)
                    return body(rec)
                }
            }
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
