// Evaluation of compiled conditions and transforms against one record. The record's value is
// scanned lazily, at most once per looked-up path, and only when something reads it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-record state shared by all destinations of one `process` call. Everything here is
/// trivially copyable except the cached key text, so creating and dropping it is cheap.
struct EvalContext {
    let recordPointer: UnsafePointer<InputRecord>
    let scanner: JSONScanner
    let hasValue: Bool
    /// 0 = not looked at, 1 = root found, 2 = not JSON.
    var rootState: UInt8 = 0
    var root = JSONSpan(start: 0, end: 0)
    /// 0 = not checked, 1 = well-formed, 2 = malformed.
    var fullCheck: UInt8 = 0
    /// Set with `fullCheck == 1`: no whitespace between tokens, so every part of the value is
    /// already compact JSON and is copied as it is.
    var compact = false
    var nowCache: Int64 = -1
    /// The pipeline's paths, resolved for this record.
    var index: RecordIndex

    init(_ record: UnsafePointer<InputRecord>, index: RecordIndex) {
        self.recordPointer = record
        self.index = index
        if let v = record.pointee.value {
            scanner = JSONScanner(v)
            hasValue = true
        } else {
            scanner = JSONScanner(UnsafeRawBufferPointer(start: nil, count: 0))
            hasValue = false
        }
    }

    var record: InputRecord { recordPointer.pointee }

    var now: Int64 {
        mutating get {
            if nowCache < 0 { nowCache = CacheStore.nowMs() }
            return nowCache
        }
    }

    /// The root value; the first read decides tombstone / not JSON.
    @inline(__always)
    mutating func rootSpan() throws(RecordError) -> JSONSpan {
        if rootState == 1 { return root }
        return try findRoot()
    }

    mutating func findRoot() throws(RecordError) -> JSONSpan {
        guard hasValue else { throw RecordError(kind: .tombstone, message: "the record has a null value (tombstone) and this destination needs its payload") }
        if rootState == 2 { throw malformedValue() }
        let s = scanner.ws(0)
        var e = scanner.count
        while e > s, scanner.isSpace(scanner[e - 1]) { e -= 1 }
        let end: Int
        if s >= e {
            end = -1
        } else {
            let b = scanner[s]
            if b == 0x7B || b == 0x5B {
                // A container's end is found only when something needs it.
                end = scanner[e - 1] == b + 2 ? e : -1
            } else {
                end = scanner.fastValueEnd(s)
            }
        }
        guard end == e else {
            rootState = 2
            throw malformedValue()
        }
        rootState = 1
        root = JSONSpan(start: s, end: e)
        return root
    }

    /// A path by its index node (> 0): nothing of the pointer itself is touched.
    @inline(__always)
    mutating func lookup(node: Int32) throws(RecordError) -> JSONSpan? {
        let r = try rootSpan()
        switch index.lookup(Int(node), root: r, scanner) {
        case .found(let span): return span
        case .missing: return nil
        case .malformed: throw malformedValue()
        }
    }

    @inline(__always)
    mutating func lookup(_ p: JSONPointer) throws(RecordError) -> JSONSpan? {
        let r = try rootSpan()
        if p.node > 0 {
            switch index.lookup(Int(p.node), root: r, scanner) {
            case .found(let span): return span
            case .missing: return nil
            case .malformed: throw malformedValue()
            }
        }
        if p.segments.isEmpty { return r }
        do {
            return try scanner.lookup(p, in: r)
        } catch {
            throw RecordError(kind: .malformedJSON, message: "malformed JSON at byte \(error.offset): \(error.message)")
        }
    }

    /// `span`, after checking that a container about to be copied into an output is
    /// well-formed throughout (scalars were checked when they were found).
    @inline(__always)
    mutating func checked(_ span: JSONSpan) throws(RecordError) -> JSONSpan {
        let b = scanner[span.start]
        if (b == 0x7B || b == 0x5B) && fullCheck != 1 && !scanner.isWellFormed(span) { throw malformedValue() }
        return span
    }

    /// The error for a value found malformed, explained by the slow validator (errors are
    /// rare: nothing about them is kept on the fast path).
    func malformedValue() -> RecordError {
        let s = scanner.ws(0)
        guard s < scanner.count else { return RecordError(kind: .malformedJSON, message: "the value is empty, not JSON") }
        do {
            try scanner.slowValidate()
            return RecordError(kind: .malformedJSON, message: "malformed JSON")
        } catch {
            return RecordError(kind: .malformedJSON, message: "malformed JSON at byte \(error.offset): \(error.message)")
        }
    }

    /// Checks the whole value (once per record): used before original bytes are forwarded.
    mutating func checkWhole() throws(RecordError) {
        if fullCheck == 1 { return }
        if fullCheck == 2 { throw malformedValue() }
        _ = try rootSpan()
        var spaced = false
        let e = scanner.fastValidate(root.start, spaced: &spaced)
        if e == root.end {
            fullCheck = 1
            compact = !spaced
        } else {
            fullCheck = 2
            throw malformedValue()
        }
    }

    /// The key as text, handed to `body`: a key that is a JSON string is read as that string (as
    /// the existing tool does); any other key is its bytes. nil = null key. Nothing is copied
    /// unless the string holds escapes.
    func withKeyText<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        guard let k = recordPointer.pointee.key else { return nil }
        guard let base = k.baseAddress, k.count > 0 else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        if k.count >= 2, bytes[0] == 0x22, bytes[k.count - 1] == 0x22 {
            let s = JSONScanner(k)
            if let end = try? s.stringEnd(0), end == k.count {
                let inner = UnsafeBufferPointer(start: bytes + 1, count: k.count - 2)
                if memchr(bytes + 1, 0x5C, k.count - 2) == nil { return body(inner) }
                return s.stringBytes(JSONSpan(start: 0, end: end)).withUnsafeBufferPointer(body)
            }
        }
        return body(UnsafeBufferPointer(start: bytes, count: k.count))
    }

    /// The last header with this name (as the existing tool's map keeps it).
    func header(_ name: String) -> UnsafeRawBufferPointer?? {
        for h in record.headers.reversed() where h.name == name { return .some(h.value) }
        return .none
    }
}

// MARK: - Conditions

extension Condition {
    func evaluate(_ ctx: inout EvalContext) throws(RecordError) -> Bool {
        switch self {
        case .compare(let c):
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
        case .and(let cs):
            for c in cs where !(try c.evaluate(&ctx)) { return false }
            return true
        case .or(let cs):
            for c in cs where try c.evaluate(&ctx) { return true }
            return false
        case .not(let c):
            return !(try c.evaluate(&ctx))
        case .exists(let p):
            return try ctx.lookup(p) != nil
        case .notExists(let p):
            return try ctx.lookup(p) == nil
        case .regex(let p, let re):
            guard let span = try ctx.lookup(p), ctx.scanner.kind(span) == .string else { return false }
            let s = ctx.scanner
            let inner = span.start + 1, n = span.end - span.start - 2
            if memchr(s.base + inner, 0x5C, n) == nil {
                return try re.matches(UnsafeBufferPointer(start: s.base + inner, count: n))
            }
            return try s.stringBytes(span).withUnsafeBufferPointer { (b) throws(RecordError) -> Bool in try re.matches(b) }
        case .array(let p, let all, let elem, let op, let lit):
            guard let span = try ctx.lookup(p), ctx.scanner.kind(span) == .array else { return false }
            let s = ctx.scanner
            var q = s.ws(span.start + 1)
            guard q < s.count else { throw ctx.malformedValue() }
            if s[q] == 0x5D { return all }
            while true {
                var target = JSONSpan(start: q, end: q)
                let r: Int
                let e: Int
                if elem.segments.count == 1, s[q] == 0x7B {
                    // One pass over the element: its member, and its end.
                    (r, e) = elem.segments[0].key.withUnsafeBufferPointer { s.fastMemberAndEnd($0, of: q, &target) }
                } else {
                    e = s.fastValueEnd(q)
                    guard e >= 0 else { throw ctx.malformedValue() }
                    target.end = e
                    r = elem.segments.isEmpty ? 1 : s.fastLookup(elem, in: target, &target)
                }
                guard e >= 0 else { throw ctx.malformedValue() }
                guard r >= 0 else { throw ctx.malformedValue() }
                let m = Condition.compare(r == 1 ? target : nil, op, lit, s)
                // ALL stops at the first element that fails, ANY at the first that matches.
                if m != all { return m }
                q = s.ws(e)
                guard q < s.count else { throw ctx.malformedValue() }
                if s[q] == 0x2C {
                    q = s.ws(q + 1)
                } else if s[q] == 0x5D {
                    return all
                } else {
                    throw ctx.malformedValue()
                }
            }
        case .keyExists:
            return ctx.record.key != nil
        case .keyPrefix(let v):
            return ctx.withKeyText { k in k.starts(with: v) } ?? false
        case .keySuffix(let v):
            return ctx.withKeyText { k in k.count >= v.count && UnsafeBufferPointer(rebasing: k[(k.count - v.count)...]).elementsEqual(v) } ?? false
        case .keyContains(let v):
            return ctx.withKeyText { k in v.isEmpty || bytesFind(k, v, from: 0) != nil } ?? false
        case .keyMatches(let re):
            let outcome = ctx.withKeyText { k in Result { () throws(RecordError) -> Bool in try re.matches(k) } }
            return try outcome?.get() ?? false
        case .headerExists(let name):
            return ctx.header(name) != nil
        case .header(let name, let op, let expected):
            guard let h = ctx.header(name) else { return op == .ne }
            let actual = h.map { String(decoding: $0, as: UTF8.self) } ?? ""
            switch op {
            case .eq: return actual == expected
            case .ne: return actual != expected
            default:
                guard let o = DecimalText.order(actual, expected) else { return false }
                return Condition.order(Double(o), 0, op)
            }
        case .timestampAge(let op, let secs):
            let age = (ctx.now - ctx.record.timestamp) / 1000
            return Condition.order(Double(age), Double(secs), op)
        case .timestampAfter(let ms):
            return ctx.record.timestamp > ms
        case .timestampBefore(let ms):
            return ctx.record.timestamp < ms
        }
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

func bytesFind(_ hay: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
    hay.withUnsafeBufferPointer { bytesFind($0, needle, from: from) }
}

func bytesFind(_ hay: UnsafeBufferPointer<UInt8>, _ needle: [UInt8], from: Int) -> Int? {
    let n = needle.count
    guard n > 0, hay.count - from >= n else { return nil }
    let first = needle[0]
    var i = from
    while i <= hay.count - n {
        if hay[i] == first {
            var k = 1
            while k < n && hay[i + k] == needle[k] { k += 1 }
            if k == n { return i }
        }
        i += 1
    }
    return nil
}
