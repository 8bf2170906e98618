// The compiled form of the language: what the parser produces and the evaluator runs.
// Patterns, pointers and literals are resolved here once; nothing is re-parsed per record.

public enum CompareOp: String, Sendable, CaseIterable {
    case eq = "==", ne = "!=", gt = ">", ge = ">=", lt = "<", le = "<="
}

/// A typed literal of a comparison.
public enum Literal: Sendable, Equatable {
    case number(Double)
    /// An integer of 2^53 or more in magnitude, beyond what f64 holds exactly (NumberOrder.swift).
    case bigInteger(IntegerLiteral)
    case string([UInt8])
    case bool(Bool)
    case null
}

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

/// `/p,OP,LIT`, in one object so evaluating it copies one reference, not the pointer's parts.
final class Comparison: @unchecked Sendable {
    let path: JSONPointer
    let op: CompareOp
    let literal: Literal
    /// A string literal's bytes, in memory of this object's own (read per record without
    /// reference counting); empty for other literals. Immutable.
    let stringBytes: UnsafeMutableBufferPointer<UInt8>
    let isString: Bool

    init(_ path: JSONPointer, _ op: CompareOp, _ literal: Literal) {
        self.path = path
        self.op = op
        self.literal = literal
        if case .string(let b) = literal {
            isString = true
            let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, b.count))
            _ = storage.initialize(from: b)
            stringBytes = UnsafeMutableBufferPointer(rebasing: storage[0..<b.count])
        } else {
            isString = false
            stringBytes = .allocate(capacity: 1)
        }
    }

    deinit { stringBytes.baseAddress.map { $0.deallocate() } }
}

/// The fields of a CONSTRUCT, with each member's `"name":` written out once at load. The
/// per-record reads go through plain memory owned by this object (no reference counting).
final class ConstructFields: @unchecked Sendable {
    let names: [String]
    let paths: [JSONPointer]
    let count: Int
    /// Index nodes of the paths.
    let nodes: UnsafeMutablePointer<Int32>
    /// `"name":` of field k: `prefixBytes[prefixStart[k] ..< prefixStart[k + 1]]`.
    let prefixStart: UnsafeMutablePointer<Int>
    let prefixBytes: UnsafeMutablePointer<UInt8>

    init(_ fields: [(name: String, path: JSONPointer)]) {
        names = fields.map(\.name)
        paths = fields.map(\.path)
        count = fields.count
        nodes = .allocate(capacity: max(1, count))
        prefixStart = .allocate(capacity: count + 1)
        var all: [UInt8] = []
        for (k, f) in fields.enumerated() {
            nodes[k] = f.path.node
            prefixStart[k] = all.count
            JSONValue.writeString(f.name, to: &all)
            all.append(0x3A)
        }
        prefixStart[count] = all.count
        prefixBytes = .allocate(capacity: max(1, all.count))
        for (k, b) in all.enumerated() { prefixBytes[k] = b }
    }

    deinit {
        nodes.deallocate()
        prefixStart.deallocate()
        prefixBytes.deallocate()
    }
}

public enum ArithmeticOp: String, Sendable { case add = "ADD", sub = "SUB", mul = "MUL", div = "DIV" }

enum ArithmeticOperand: Sendable {
    case path(JSONPointer)
    case constant(Double, text: String)
}

enum StringOp: Sendable {
    case upper, lower, trim, trimStart, trimEnd, length
    case substring(start: Int, length: Int?)
    case replace(from: [UInt8], to: [UInt8], all: Bool)
    case regexReplace(PCRERegex, String)
    case split([UInt8])
}

enum ConcatPart: Sendable {
    case literal(String)
    case path(JSONPointer)
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
