// How `streamforgectl dry-run` prints outcomes: text for people, or one JSON object per record
// for CI, plus a summary line.
//
// JSON, one line per record:
//   {"record":1,"line":1,"input":{"topic":"orders","partition":0,"offset":0,"timestamp":1700000000000},
//    "destinations":{
//      "premium":{"topic":"premium","partition":3,"key":"o1","value":{"id":"o1"},"headers":[["x-src","sf"]],"timestamp":1700000000000},
//      "calc":{"error":"ARITHMETIC: division by zero","kind":"transform","policy":"skip_and_log"},
//      "archive":{"filtered":true}}}
// A produced member is an envelope in the input's own shape: it can be fed back as a sample.


public import StreamForgeLanguage

public enum DryRunReport {
    // MARK: Text

    public static func text(_ o: RecordOutcome, names: [String]) -> String {
        if let e = o.readError {
            var s = "record \(o.number) (line \(o.line)): unable to read the record: \(e.message)\n"
            if let hint = e.hint { s += "    hint: \(hint)\n" }
            return s
        }
        guard let r = o.record else { return "" }
        var out = "record \(o.number) (line \(o.line), topic=\(r.topic) partition=\(r.partition) offset=\(r.offset) timestamp=\(r.timestamp))\n"
        for (i, d) in o.destinations.enumerated() {
            let name = i < names.count ? names[i] : "?"
            switch d {
            case .filtered:
                out += "  [\(i)] \(name): filtered\n"
            case .failed(let kind, let message, let policy, let dlq):
                out += "  [\(i)] \(name): error \(kind): \(message) (policy: \(policy.rawValue)\(dlq.map { ", to \($0)" } ?? ""))\n"
            case .produced(let p):
                out += "  [\(i)] \(name): produce to \(p.topic)\n"
                out += "      key: \(quoted(p.key))\n"
                out += "      value: \(p.value.map { String(decoding: $0, as: UTF8.self) } ?? "null (tombstone)")\n"
                out += "      headers: \(headersJSON(p.headers).jsonText)\n"
                out += "      timestamp: \(p.timestamp)\(p.timestampKept ? " (source)" : "")\n"
                out += "      partition: \(p.partition.map { "\($0)" } ?? "unknown") (\(p.partitionNote))\n"
            }
        }
        return out
    }

    /// `summary: records=4, produced: premium=1 calc=2, filtered=2, errors=1, unreadable=1`
    public static func summaryLine(_ s: DryRunSummary, names: [String]) -> String {
        let produced = zip(names, s.produced).map { "\($0)=\($1)" }.joined(separator: " ")
        return "summary: records=\(s.records), produced: \(produced.isEmpty ? "none" : produced), filtered=\(s.filtered), errors=\(s.errors), unreadable=\(s.unreadable)"
    }

    // MARK: JSON

    public static func json(_ o: RecordOutcome, names: [String]) -> String {
        var members: [JSONMember] = [JSONMember(key: "record", value: .number("\(o.number)")),
                                     JSONMember(key: "line", value: .number("\(o.line)"))]
        if let e = o.readError {
            members.append(JSONMember(key: "error", value: .string(e.message)))
            if let hint = e.hint { members.append(JSONMember(key: "hint", value: .string(hint))) }
            return JSONValue.object(members).jsonText
        }
        if let r = o.record {
            members.append(JSONMember(key: "input", value: .object([
                JSONMember(key: "topic", value: .string(r.topic)),
                JSONMember(key: "partition", value: .number("\(r.partition)")),
                JSONMember(key: "offset", value: .number("\(r.offset)")),
                JSONMember(key: "timestamp", value: .number("\(r.timestamp)")),
            ])))
        }
        var destinations: [JSONMember] = []
        for (i, d) in o.destinations.enumerated() {
            destinations.append(JSONMember(key: i < names.count ? names[i] : "#\(i)", value: json(d)))
        }
        members.append(JSONMember(key: "destinations", value: .object(destinations)))
        return JSONValue.object(members).jsonText
    }

    public static func json(_ d: DestinationOutcome) -> JSONValue {
        switch d {
        case .filtered:
            return .object([JSONMember(key: "filtered", value: .bool(true))])
        case .failed(let kind, let message, let policy, let dlq):
            var m = [JSONMember(key: "error", value: .string(message)), JSONMember(key: "kind", value: .string(kind)),
                     JSONMember(key: "policy", value: .string(policy.rawValue))]
            if let dlq { m.append(JSONMember(key: "dlq_topic", value: .string(dlq))) }
            return .object(m)
        case .produced(let p):
            var m = [JSONMember(key: "topic", value: .string(p.topic)),
                     JSONMember(key: "partition", value: p.partition.map { .number("\($0)") } ?? .null)]
            if p.partition == nil { m.append(JSONMember(key: "partition_note", value: .string(p.partitionNote))) }
            m.append(JSONMember(key: "key", value: p.key.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null))
            m.append(valueMember(p.value))
            m.append(JSONMember(key: "headers", value: headersJSON(p.headers)))
            m.append(JSONMember(key: "timestamp", value: .number("\(p.timestamp)")))
            return .object(m)
        }
    }

    /// `"value": <JSON>` when the bytes are JSON (numbers keep their text), `"value_raw": "..."`
    /// otherwise, `"value": null` for a tombstone.
    static func valueMember(_ bytes: [UInt8]?) -> JSONMember {
        guard let bytes else { return JSONMember(key: "value", value: .null) }
        if let v = try? JSONValue.parse(bytes) { return JSONMember(key: "value", value: v) }
        return JSONMember(key: "value_raw", value: .string(String(decoding: bytes, as: UTF8.self)))
    }

    static func headersJSON(_ headers: [(name: String, value: [UInt8]?)]) -> JSONValue {
        .array(headers.map { .array([.string($0.name), $0.value.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null]) })
    }

    static func quoted(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "null" }
        var out: [UInt8] = []
        JSONValue.writeStringBytes(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
