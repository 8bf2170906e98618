// Evaluation against one record: the per-record state (`EvalContext`: the value scanned lazily,
// at most once per looked-up path, and only when something reads it) and the dispatch of a
// condition to its operator (Operators/<Name>.swift).

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
}

// MARK: - Conditions

extension Condition {
    /// Dispatches to the condition's evaluator (Operators/<Name>.swift); AND, OR and NOT are
    /// read here.
    func evaluate(_ ctx: inout EvalContext) throws(RecordError) -> Bool {
        switch self {
        case .compare(let c):
            return try Condition.evaluate(c, &ctx)
        case .and(let cs):
            for c in cs where !(try c.evaluate(&ctx)) { return false }
            return true
        case .or(let cs):
            for c in cs where try c.evaluate(&ctx) { return true }
            return false
        case .not(let c):
            return !(try c.evaluate(&ctx))
        case .exists(let p):
            return try Condition.exists(p, &ctx)
        case .notExists(let p):
            return !(try Condition.exists(p, &ctx))
        case .regex(let p, let re):
            return try Condition.regex(p, re, &ctx)
        case .array(let p, let all, let elem, let op, let lit):
            return try Condition.arrayMatch(p, all: all, element: elem, op, lit, &ctx)
        case .keyExists:
            return ctx.record.key != nil
        case .keyPrefix(let v):
            return Condition.keyPrefix(v, ctx)
        case .keySuffix(let v):
            return Condition.keySuffix(v, ctx)
        case .keyContains(let v):
            return Condition.keyContains(v, ctx)
        case .keyMatches(let re):
            return try Condition.keyMatches(re, ctx)
        case .headerExists(let name):
            return ctx.header(name) != nil
        case .header(let name, let op, let expected):
            return Condition.header(name, op, expected, ctx)
        case .timestampAge(let op, let secs):
            return Condition.timestampAge(op, secs, &ctx)
        case .timestampAfter(let ms):
            return ctx.record.timestamp > ms
        case .timestampBefore(let ms):
            return ctx.record.timestamp < ms
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
