// The compiled form of the language: what the parser produces and the evaluator runs.
// Patterns, pointers and literals are resolved at load; nothing is re-parsed per record. The
// payload types of each operator live with it in Operators/<Name>.swift.

indirect enum Condition: Sendable {
    case and([Condition])
    case or([Condition])
    case not(Condition)
    case compare(Comparison)
    case exists(JSONPointer)
    case notExists(JSONPointer)
    case regex(JSONPointer, PCRERegex)
    case array(JSONPointer, all: Bool, element: JSONPointer, CompareOp, Literal)
    case keyExists
    case keyPrefix([UInt8])
    case keySuffix([UInt8])
    case keyContains([UInt8])
    case keyMatches(PCRERegex)
    case headerExists(String)
    case header(String, CompareOp, String)
    case timestampAge(CompareOp, Int64)
    case timestampAfter(Int64)
    case timestampBefore(Int64)

    /// True when evaluating this reads the record's value.
    var readsValue: Bool {
        switch self {
        case .and(let cs), .or(let cs): return cs.contains { $0.readsValue }
        case .not(let c): return c.readsValue
        case .compare, .exists, .notExists, .regex, .array: return true
        default: return false
        }
    }
}

/// Output field names (`out`) are kept as UTF-8 bytes: they are compared with member names and
/// written per record.
indirect enum ValueTransform: Sendable {
    case path(JSONPointer)
    case construct(ConstructFields)
    case arrayMap(JSONPointer, element: JSONPointer, out: [UInt8]?)
    case arithmetic(ArithmeticOp, JSONPointer, ArithmeticOperand)
    case hash(HashAlgorithm, JSONPointer, out: [UInt8]?)
    case string(StringOp, JSONPointer, out: [UInt8]?)
    case concat(out: [UInt8], parts: [ConcatPart])
    case attempt(ValueTransform, fallback: JSONValue)
    case cachePut(key: JSONPointer, store: CacheStore, value: JSONPointer?)
    case cacheLookup(key: JSONPointer, store: CacheStore, out: [UInt8]?)
}

/// A key template part: literal text or `{/pointer}`.
enum TemplatePart: Sendable {
    case literal(String)
    case path(JSONPointer)
}

enum KeyTransform: Sendable {
    case path(JSONPointer)
    case construct(ConstructFields)
    case hash(HashAlgorithm, JSONPointer)
    case template([TemplatePart])
    case constant([UInt8])
}

enum HeaderOperation: Sendable {
    case from(JSONPointer)
    case copy(String)
    case remove
}

enum TimestampTransform: Sendable {
    case preserve
    case current
    case from(JSONPointer)
    case add(Int64)      // milliseconds
}
