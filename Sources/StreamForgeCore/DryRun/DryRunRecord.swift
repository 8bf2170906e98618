// A sample record for `streamforgectl dry-run` and `streamforgectl test`: an envelope object
// with a `value` (or `value_raw`) member, or any other JSON value, which is the record's value.
//
//   {"value": <JSON or null>, "key": "k", "headers": {"h": "v"} | [["h","v"]],
//    "timestamp": 1700000000000, "topic": "t", "partition": 0, "offset": 0}
//
// What an envelope leaves out comes from `DryRunRecord.Defaults`, so that a sample behaves like a
// live record: the configuration's first input topic, partition 0, the time of the run.


public import StreamForgeLanguage

/// One sample record, owned.
public struct DryRunRecord: Sendable {
    /// What a sample does not say.
    public struct Defaults: Sendable {
        /// nil: the sample must name its topic (the input is a regular expression).
        public var topic: String?
        public var partition: Int32
        /// Epoch milliseconds.
        public var timestamp: Int64

        public init(topic: String? = "input", partition: Int32 = 0, timestamp: Int64 = 0) {
            self.topic = topic
            self.partition = partition
            self.timestamp = timestamp
        }

        /// A live record's: the first input topic, partition 0, now.
        public init(config: StreamForgeConfig, now: Int64) {
            if case .topics(let topics) = config.input { topic = topics.first } else { topic = nil }
            partition = 0
            timestamp = now
        }
    }

    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// nil = null key.
    public var key: [UInt8]?
    /// nil = tombstone.
    public var value: [UInt8]?
    public var headers: [(name: String, value: [UInt8]?)]
    public var timestamp: Int64

    /// Why a sample cannot be read.
    public struct ReadError: Error, Sendable, Equatable {
        public var message: String
        public var hint: String?
        public init(_ message: String, hint: String? = nil) {
            self.message = message
            self.hint = hint
        }
    }

    public static let envelopeMembers = ["value", "value_raw", "key", "headers", "timestamp", "topic", "partition", "offset"]

    /// Reads one JSON line.
    public init(line: String, defaults: Defaults = Defaults(), offset: Int64 = 0) throws(ReadError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(line)
        } catch {
            throw ReadError("not JSON (at byte \(error.offset): \(error.message))",
                            hint: "write the record's value as JSON, or an envelope such as {\"value_raw\": \"text\"}")
        }
        try self.init(json: json, defaults: defaults, offset: offset)
    }

    /// Reads a sample given as JSON: an envelope, or the value itself.
    public init(json: JSONValue, defaults: Defaults = Defaults(), offset: Int64 = 0) throws(ReadError) {
        partition = defaults.partition
        timestamp = defaults.timestamp
        self.offset = offset
        headers = []
        key = nil
        var topic = defaults.topic
        guard case .object(let members) = json, let envelope = try DryRunRecord.envelope(members) else {
            value = json.serialized()
            guard let topic else { throw DryRunRecord.noTopic }
            self.topic = topic
            return
        }
        for m in envelope {
            switch m.key {
            case "value": value = m.value == .null ? nil : m.value.serialized()
            case "value_raw":
                guard case .string(let s) = m.value else { throw ReadError("'value_raw' must be a string, found \(m.value.typeName)") }
                value = Array(s.utf8)
            case "key":
                switch m.value {
                case .null: key = nil
                case .string(let s): key = Array(s.utf8)
                default: key = m.value.serialized()
                }
            case "headers":
                headers = try DryRunRecord.headers(m.value)
            case "timestamp":
                timestamp = try DryRunRecord.integer(m.value, "timestamp", "epoch milliseconds", min: 0)
            case "topic":
                guard case .string(let t) = m.value, !t.isEmpty else { throw ReadError("'topic' must be a non-empty string, found \(m.value.typeName)") }
                topic = t
            case "partition":
                partition = Int32(try DryRunRecord.integer(m.value, "partition", "a partition number", min: 0, max: Int64(Int32.max)))
            default: // offset
                self.offset = try DryRunRecord.integer(m.value, "offset", "an offset", min: 0)
            }
        }
        guard let topic else { throw DryRunRecord.noTopic }
        self.topic = topic
    }

    static let noTopic = ReadError("the record has no topic and the configuration's input is a regular expression",
                                   hint: "give the topic in the envelope ({\"topic\": \"orders\", \"value\": ...}) or with --topic")

    /// The members of an envelope, or nil when `members` is the record's value. An object with
    /// `value` or `value_raw` is an envelope, and every other member must be one of an
    /// envelope's; an object without either that otherwise looks like an envelope (envelope
    /// members beside a misspelt `value`) is a mistake too.
    static func envelope(_ members: [JSONMember]) throws(ReadError) -> [JSONMember]? {
        let names = members.map(\.key)
        let hasValue = names.contains("value") || names.contains("value_raw")
        if !hasValue {
            let others = names.filter { !envelopeMembers.contains($0) }
            guard others.count == 1, others.count < names.count,
                  let suggestion = ConfigSuggestions.closest(to: others[0], in: ["value", "value_raw"]) else { return nil }
            throw ReadError("unknown envelope member '\(others[0])' beside '\(names.first { envelopeMembers.contains($0) }!)'",
                            hint: "did you mean '\(suggestion)'?")
        }
        if names.contains("value") && names.contains("value_raw") {
            throw ReadError("an envelope has 'value' or 'value_raw', not both")
        }
        var seen = Set<String>()
        for name in names {
            guard envelopeMembers.contains(name) else {
                let hint = ConfigSuggestions.closest(to: name, in: envelopeMembers).map { "did you mean '\($0)'?" }
                    ?? "an object with a 'value' member is an envelope (\(envelopeMembers.joined(separator: ", "))); to use such an object as the record's value, write {\"value\": {...}}"
                throw ReadError("unknown envelope member '\(name)' beside 'value'", hint: hint)
            }
            guard seen.insert(name).inserted else { throw ReadError("envelope member '\(name)' is given twice") }
        }
        return members
    }

    static func integer(_ v: JSONValue, _ name: String, _ what: String, min: Int64, max: Int64 = .max) throws(ReadError) -> Int64 {
        guard case .number(let text) = v, let n = Int64(text), n >= min, n <= max else {
            throw ReadError("'\(name)' must be \(what) (an integer from \(min)\(max == .max ? "" : " to \(max)")), found \(v.typeName) \(v.jsonText)")
        }
        return n
    }

    static func headers(_ v: JSONValue) throws(ReadError) -> [(name: String, value: [UInt8]?)] {
        switch v {
        case .object(let hs):
            return hs.map { ($0.key, headerValue($0.value)) }
        case .array(let items):
            var out: [(name: String, value: [UInt8]?)] = []
            for (i, item) in items.enumerated() {
                guard case .array(let pair) = item, pair.count == 2, case .string(let name) = pair[0] else {
                    throw ReadError("'headers[\(i)]' must be a [name, value] pair, found \(item.jsonText)")
                }
                out.append((name, headerValue(pair[1])))
            }
            return out
        default:
            throw ReadError("'headers' must be an object or a list of [name, value] pairs, found \(v.typeName)")
        }
    }

    /// A header value: a string as its text, null as a null value, anything else its compact JSON.
    static func headerValue(_ v: JSONValue) -> [UInt8]? {
        switch v {
        case .null: return nil
        case .string(let s): return Array(s.utf8)
        default: return v.serialized()
        }
    }

    /// Lends the record to `body` as the pipeline reads records.
    public func withInputRecord<R>(_ body: (InputRecord) -> R) -> R {
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

extension JSONValue {
    /// "a string", "a number", ... for messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
