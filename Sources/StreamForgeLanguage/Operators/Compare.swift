// Comparisons: `/path,OP,literal` with OP one of == != > >= < <= — the typed literal, the
// compiled comparison, its parsing, its general evaluation and its flattened fast-path form
// (FilterNode's compare kinds, Runtime/FastFilter.swift). The typed rules (`compare`, `order`)
// are shared with ARRAY_ANY/ARRAY_ALL, HEADER and TIMESTAMP_AGE.

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

// MARK: - Parsing

extension DSLParser {
    mutating func compare(nested: Bool, depth: Int) throws(DSLError) -> Condition {
        let pathTok = try readArg(stops: itemStops(nested: nested, depth: depth))
        let path = try pointer(pathTok)
        guard peek() == 0x2C else {
            throw DSLError(offset: i, message: "expected ',' after the path '\(pathTok.text)'", hint: "write path,OP,value, e.g. /status,==,active")
        }
        i += 1
        let opTok = try readArg(stops: itemStops(nested: nested, depth: depth))
        let op = try compareOp(opTok)
        guard peek() == 0x2C else { throw DSLError(offset: i, message: "expected ',' after the operator") }
        i += 1
        let litTok = try readArg(stops: itemStops(nested: nested, depth: depth))
        if litTok.text.isEmpty && !litTok.quoted {
            throw DSLError(offset: litTok.offset, message: "missing value to compare with", hint: "write '' for an empty string")
        }
        return .compare(Comparison(path, op, try DSLParser.comparable(op, litTok)))
    }

    func compareOp(_ t: Token) throws(DSLError) -> CompareOp {
        if let op = CompareOp(rawValue: t.text) { return op }
        let hint: String
        switch t.text {
        case "=": hint = "use '==' for equality"
        case "=<": hint = "did you mean '<='?"
        case "=>": hint = "did you mean '>='?"
        case "<>": hint = "use '!=' for inequality"
        case "": hint = "write path,OP,value with OP one of == != > >= < <="
        default: hint = "OP is one of == != > >= < <="
        }
        throw DSLError(offset: t.offset, message: t.text.isEmpty ? "missing operator" : "unknown operator '\(t.text)'", hint: hint)
    }

    static func literal(_ t: Token) -> Literal {
        if t.quoted { return .string(Array(t.text.utf8)) }
        switch t.text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: break
        }
        if let d = numberValue(t.text) { return IntegerLiteral(t.text, approximation: d).map { .bigInteger($0) } ?? .number(d) }
        return .string(Array(t.text.utf8))
    }

    /// The literal of a comparison with `op`. An ordering with anything but a number could never
    /// match (only numbers are ordered), so it is an error here rather than a silent filter.
    static func comparable(_ op: CompareOp, _ t: Token) throws(DSLError) -> Literal {
        let literal = DSLParser.literal(t)
        guard op != .eq && op != .ne else { return literal }
        switch literal {
        case .number, .bigInteger: return literal
        default: break
        }
        throw DSLError(offset: t.offset, message: "'\(op.rawValue)' orders numbers, and '\(t.text)' is not a number",
                       hint: "strings, booleans and null support == and != only")
    }
}

// MARK: - General evaluation

extension Condition {
    @inline(__always)
    static func evaluate(_ c: Comparison, _ ctx: inout EvalContext) throws(RecordError) -> Bool {
        let node = c.path.node
        let span = node > 0 ? try ctx.lookup(node: node) : try ctx.lookup(c.path)
        if c.isString {
            // The common case, compared in place: no copy of the literal.
            guard let span else { return c.op == .ne }
            let s = ctx.scanner
            guard s[span.start] == 0x22 else { return c.op == .ne }
            switch c.op {
            case .eq: return s.stringEquals(span, UnsafeBufferPointer(c.stringBytes))
            case .ne: return !s.stringEquals(span, UnsafeBufferPointer(c.stringBytes))
            default: return false
            }
        }
        return Condition.compare(span, c.op, c.literal, ctx.scanner)
    }

    @inline(__always)
    static func order(_ a: Double, _ b: Double, _ op: CompareOp) -> Bool {
        switch op {
        case .eq: return a == b
        case .ne: return a != b
        case .gt: return a > b
        case .ge: return a >= b
        case .lt: return a < b
        case .le: return a <= b
        }
    }

    /// Typed comparison. A missing field makes `==` false and `!=` true; a value of another type
    /// than the literal is unequal and never ordered.
    @inline(__always)
    static func compare(_ span: JSONSpan?, _ op: CompareOp, _ lit: Literal, _ s: JSONScanner) -> Bool {
        guard let span else { return op == .ne }
        switch lit {
        case .number(let n):
            guard s.kind(span) == .number, let d = s.double(span) else { return op == .ne }
            return order(d, n, op)
        case .bigInteger(let n):
            guard s.kind(span) == .number else { return op == .ne }
            return n.compare(s, span, op)
        case .string(let str):
            guard s.kind(span) == .string else { return op == .ne }
            switch op {
            case .eq: return s.stringEquals(span, str)
            case .ne: return !s.stringEquals(span, str)
            default: return false
            }
        case .bool(let b):
            guard s.kind(span) == .bool else { return op == .ne }
            let v = s[span.start] == 0x74
            switch op {
            case .eq: return v == b
            case .ne: return v != b
            default: return false
            }
        case .null:
            let isNull = s.kind(span) == .null
            switch op {
            case .eq: return isNull
            case .ne: return !isNull
            default: return false
            }
        }
    }
}

// MARK: - Fast path

extension FilterNode {
    /// The flattened form of a comparison on an indexed path; nil for a literal the fast path
    /// does not compare (a big integer, compared exactly by the general evaluator). String
    /// literal storage goes to `literals` (owned by the program).
    static func comparison(_ cmp: Comparison, literals: inout [UnsafeMutableBufferPointer<UInt8>]) -> FilterNode? {
        var n = FilterNode(kind: .other, op: cmp.op, node: cmp.path.node)
        switch cmp.literal {
        case .string(let b):
            n.kind = .compareString
            let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, b.count))
            _ = storage.initialize(from: b)
            literals.append(storage)
            n.bytes = UnsafePointer(storage.baseAddress!)
            n.length = b.count
            for (j, x) in b.enumerated() where j < 8 { n.word |= UInt64(x) << (8 * UInt64(j)) }
            n.mask = b.count >= 8 ? ~0 : (UInt64(1) << (8 * UInt64(b.count))) &- 1
        case .number(let d):
            n.kind = .compareNumber
            n.number = d
        case .bool(let v):
            n.kind = .compareBool
            n.bool = v
        case .null:
            n.kind = .compareNull
        case .bigInteger:
            return nil
        }
        return n
    }
}

extension FilterCode {
    @inline(__always)
    static func compareString(_ n: FilterNode, _ ctx: inout EvalContext) throws(RecordError) -> Bool {
        guard let span = try ctx.lookup(node: n.node) else { return n.op == .ne }
        let s = ctx.scanner
        guard s.base[span.start] == 0x22 else { return n.op == .ne }
        let equal: Bool
        let inner = span.start &+ 1, len = span.end &- span.start &- 2
        if len == n.length && len <= 8 && inner &+ 8 <= s.count {
            // One word compare: the closing quote and what follows are masked off.
            equal = (s.load8(inner) ^ n.word) & n.mask == 0
                || s.stringEquals(span, UnsafeBufferPointer(start: n.bytes, count: n.length))
        } else {
            equal = s.stringEquals(span, UnsafeBufferPointer(start: n.bytes, count: n.length))
        }
        switch n.op {
        case .eq: return equal
        case .ne: return !equal
        default: return false
        }
    }

    @inline(__always)
    static func compareNumber(_ n: FilterNode, _ ctx: inout EvalContext) throws(RecordError) -> Bool {
        guard let span = try ctx.lookup(node: n.node) else { return n.op == .ne }
        let s = ctx.scanner
        let b = s.base[span.start]
        guard b == 0x2D || b &- 0x30 < 10, let d = s.double(span) else { return n.op == .ne }
        return Condition.order(d, n.number, n.op)
    }

    @inline(__always)
    static func compareBool(_ n: FilterNode, _ ctx: inout EvalContext) throws(RecordError) -> Bool {
        guard let span = try ctx.lookup(node: n.node) else { return n.op == .ne }
        let b = ctx.scanner.base[span.start]
        guard b == 0x74 || b == 0x66 else { return n.op == .ne }
        switch n.op {
        case .eq: return (b == 0x74) == n.bool
        case .ne: return (b == 0x74) != n.bool
        default: return false
        }
    }

    @inline(__always)
    static func compareNull(_ n: FilterNode, _ ctx: inout EvalContext) throws(RecordError) -> Bool {
        guard let span = try ctx.lookup(node: n.node) else { return n.op == .ne }
        let isNull = ctx.scanner.base[span.start] == 0x6E
        switch n.op {
        case .eq: return isNull
        case .ne: return !isNull
        default: return false
        }
    }
}
