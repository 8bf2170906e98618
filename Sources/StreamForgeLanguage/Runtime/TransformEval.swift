// Value transforms: the dispatch to each operator (Operators/<Name>.swift) and the JSON writers
// they share. Each writes the new value as compact JSON into an output buffer, copying the parts
// it keeps from the source bytes (so number text and member order survive).

enum TransformOutcome {
    /// `out` holds the new value.
    case wrote
    /// The value passes through unchanged (by design, e.g. CACHE_PUT).
    case unchanged
    /// The transform found nothing to work on; the value passes through unchanged, or TRY's
    /// fallback applies.
    case notFound
}

@inline(__always)
func transformError(_ message: String) -> RecordError {
    RecordError(kind: .transform, message: message)
}

extension EvalContext {
    func malformed(_ e: JSONScanError) -> RecordError {
        RecordError(kind: .malformedJSON, message: "malformed JSON at byte \(e.offset): \(e.message)")
    }

    /// A scalar as text: strings decoded, numbers as the existing tool prints them, booleans.
    func scalarText(_ span: JSONSpan) -> [UInt8]? {
        switch scanner.kind(span) {
        case .string: return scanner.stringBytes(span)
        case .number: return Array(NumberText.normalized(scanner.text(span)).utf8)
        case .bool: return scanner[span.start] == 0x74 ? Array("true".utf8) : Array("false".utf8)
        default: return nil
        }
    }

    /// Text for keys, headers and partition input: strings raw, anything else compact JSON.
    func rawOrCompact(_ span: JSONSpan) -> [UInt8] {
        if scanner.kind(span) == .string { return scanner.stringBytes(span) }
        var out: [UInt8] = []
        scanner.appendCompact(span, to: &out)
        return out
    }

    /// Writes `root` with member `name` set to `value`: an object gets the member (see
    /// `writeObject`); any other value is wrapped as `{"original": root, name: value}`.
    func writeValue(_ root: JSONSpan, setting name: [UInt8], to value: [UInt8], into out: inout [UInt8]) throws(RecordError) {
        if scanner.kind(root) == .object {
            try writeObject(root, setting: name, to: value, into: &out)
            return
        }
        out.append(contentsOf: "{\"original\":".utf8)
        scanner.appendCompact(root, to: &out)
        out.append(0x2C)
        JSONValue.writeStringBytes(name, to: &out)
        out.append(0x3A)
        out.append(contentsOf: value)
        out.append(0x7D)
    }

    /// Writes the object at `obj` with member `name` set to `value` (replaced in place, or
    /// appended when absent).
    func writeObject(_ obj: JSONSpan, setting key: [UInt8], to value: [UInt8], into out: inout [UInt8]) throws(RecordError) {
        if fullCheck == 1 && compact && obj.start >= root.start && obj.end <= root.end {
            writeCompactObject(obj, setting: key, to: value, into: &out)
            return
        }
        // One allocation: the result is at most the object, the new member and its name.
        out.reserveCapacity(out.count &+ obj.end &- obj.start &+ value.count &+ key.count &+ 8)
        out.append(0x7B)
        var first = true
        var done = false
        do {
            try scanner.forEachMember(obj) { (n: JSONSpan, v: JSONSpan) throws(JSONScanError) in
                let isTarget = scanner.keyEquals(start: n.start, end: n.end, key)
                if isTarget && done { return }
                if !first { out.append(0x2C) }
                first = false
                out.append(0x22)
                out.append(contentsOf: UnsafeBufferPointer(start: scanner.base + n.start, count: n.end - n.start))
                out.append(0x22)
                out.append(0x3A)
                if isTarget {
                    out.append(contentsOf: value)
                    done = true
                } else {
                    scanner.appendCompact(v, to: &out)
                }
            }
        } catch {
            throw malformed(error)
        }
        if !done {
            if !first { out.append(0x2C) }
            JSONValue.writeStringBytes(key, to: &out)
            out.append(0x3A)
            out.append(contentsOf: value)
        }
        out.append(0x7D)
    }

    /// `writeObject` for an object inside a value checked whole and found compact: the members
    /// left as they are go out as runs of the original bytes, one copy per run.
    func writeCompactObject(_ obj: JSONSpan, setting key: [UInt8], to value: [UInt8], into out: inout [UInt8]) {
        _ = compactObjectWrite(obj, setting: key, to: value, into: &out, check: false)
    }

    /// Writes the record's root object with member `name` set to `value` (see `writeValue`),
    /// checking the whole value on the way: a compact object, the usual Kafka payload, is checked
    /// and copied in one pass over its members instead of a check and then a rewrite.
    mutating func writeRoot(setting name: [UInt8], to value: [UInt8], into out: inout [UInt8]) throws(RecordError) {
        let root = try rootSpan()
        if fullCheck == 0 && scanner.kind(root) == .object {
            let mark = out.count
            switch compactObjectWrite(root, setting: name, to: value, into: &out, check: true) {
            case 1:
                fullCheck = 1
                compact = true
                return
            case -1:
                out.removeSubrange(mark...)
                fullCheck = 2
                throw malformedValue()
            default:
                // Whitespace between tokens: the general path.
                out.removeSubrange(mark...)
            }
        }
        try checkWhole()
        try writeValue(root, setting: name, to: value, into: &out)
    }

    /// The compact object at `obj` with member `key` set to `value` (replaced in place, a later
    /// member of the same name dropped, or appended). With `check`, each member is checked on the
    /// way (values with `fastValidate`), and the result is 1 when the object is well-formed and
    /// compact, 0 at the first whitespace between tokens, -1 when it is not JSON (`out` holds a
    /// partial write in both cases). Without, the object was checked whole already: 1.
    func compactObjectWrite(_ obj: JSONSpan, setting key: [UInt8], to value: [UInt8], into out: inout [UInt8], check: Bool) -> Int {
        let s = scanner
        let base = s.base
        out.reserveCapacity(out.count &+ obj.end &- obj.start &+ value.count &+ key.count &+ 8)
        out.append(0x7B)
        var written = false     // a member is in `out` after the brace
        var run = -1            // start of the pending run of original members
        var runEnd = -1
        var done = false
        func flush(_ out: inout [UInt8]) {
            guard run >= 0 else { return }
            if written { out.append(0x2C) }
            out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: runEnd &- run))
            written = true
            run = -1
        }
        /// The member, its name as written in the record when it replaces one (`"name":`).
        func appendMember(_ out: inout [UInt8], name: UnsafeBufferPointer<UInt8>?) {
            if written { out.append(0x2C) }
            if let name { out.append(contentsOf: name) } else {
                JSONValue.writeStringBytes(key, to: &out)
                out.append(0x3A)
            }
            out.append(contentsOf: value)
            written = true
            done = true
        }
        /// What a byte where a token was expected means: whitespace (0) or not JSON (-1).
        func unexpected(_ b: UInt8) -> Int { s.isSpace(b) ? 0 : -1 }
        let last = obj.end &- 1      // the closing brace
        var q = obj.start &+ 1
        if check && q > last { return -1 }
        if base[q] != 0x7D {
            // `"name":value` then `,` or `}`, with no space anywhere.
            while true {
                if check && base[q] != 0x22 { return unexpected(base[q]) }
                var escaped = false
                let ke = s.fastKeyEnd(q, escaped: &escaped)
                let ve: Int
                if check {
                    guard ke > 0, ke < last else { return -1 }
                    if base[ke] != 0x3A { return unexpected(base[ke]) }
                    if base[ke &+ 1] <= 0x20 { return unexpected(base[ke &+ 1]) }
                    var spaced = false
                    ve = s.fastValidate(ke &+ 1, spaced: &spaced, depth: 1)
                    guard ve > 0, ve <= last else { return -1 }
                    if spaced { return 0 }
                } else {
                    ve = s.fastValueEnd(ke &+ 1)
                }
                let isTarget = (escaped || ke &- q &- 2 == key.count) && s.keyEquals(start: q &+ 1, end: ke &- 1, key)
                if isTarget {
                    // Set in place; a later member of the same name is dropped.
                    flush(&out)
                    if !done { appendMember(&out, name: UnsafeBufferPointer(start: base + q, count: ke &+ 1 &- q)) }
                } else {
                    if run < 0 { run = q }
                    runEnd = ve
                }
                let c = base[ve]
                if c == 0x7D {
                    if check && ve != last { return -1 }
                    break
                }
                if check {
                    if c != 0x2C { return unexpected(c) }
                    guard ve &+ 1 < last else { return -1 }
                }
                q = ve &+ 1
            }
        } else if check && q != last {
            return -1
        }
        flush(&out)
        if !done { appendMember(&out, name: nil) }
        out.append(0x7D)
        return 1
    }

    /// Writes the value at `span` with the value at `segments[k...]` replaced by `value`.
    func writeReplacing(_ span: JSONSpan, _ segments: ArraySlice<JSONPointer.Segment>, with value: [UInt8],
                        into out: inout [UInt8]) throws(RecordError) {
        guard let seg = segments.first else {
            out.append(contentsOf: value)
            return
        }
        let rest = segments.dropFirst()
        switch scanner.kind(span) {
        case .object:
            if rest.isEmpty {
                try writeObject(span, setting: seg.key, to: value, into: &out)
                return
            }
            guard let child = try? scanner.member(seg.key, of: span) else {
                throw transformError("intermediate path '\(seg.keyString)' not found")
            }
            var inner: [UInt8] = []
            try writeReplacing(child, rest, with: value, into: &inner)
            try writeObject(span, setting: seg.key, to: inner, into: &out)
        case .array:
            guard let idx = seg.index else { throw transformError("'\(seg.keyString)' is not an index of an array") }
            var n = 0
            var found = false
            out.append(0x5B)
            var failure: RecordError?
            do {
                try scanner.forEachElement(span) { (e: JSONSpan) throws(JSONScanError) -> Bool in
                    if n > 0 { out.append(0x2C) }
                    if n == idx {
                        found = true
                        do throws(RecordError) { try writeReplacing(e, rest, with: value, into: &out) } catch { failure = error; return false }
                    } else {
                        scanner.appendCompact(e, to: &out)
                    }
                    n += 1
                    return true
                }
            } catch {
                throw malformed(error)
            }
            if let failure { throw failure }
            guard found else { throw transformError("index \(idx) is out of range (array of \(n))") }
            out.append(0x5D)
        default:
            throw transformError("cannot descend into a non-object at '\(seg.keyString)'")
        }
    }
}

extension ValueTransform {
    /// Dispatches to the operator (Operators/<Name>.swift); `.path` is read here.
    func apply(_ ctx: inout EvalContext, into out: inout [UInt8]) throws(RecordError) -> TransformOutcome {
        switch self {
        case .path(let p):
            guard let span = try ctx.lookup(p) else { return .notFound }
            ctx.scanner.appendCompact(try ctx.checked(span), to: &out)
            return .wrote
        case .construct(let fields):
            try ctx.construct(fields, into: &out)
            return .wrote
        case .arrayMap(let p, let elem, let outField):
            return try ctx.applyArrayMap(p, element: elem, out: outField, into: &out)
        case .arithmetic(let op, let left, let right):
            return try ctx.applyArithmetic(op, left, right, into: &out)
        case .hash(let alg, let p, let outField):
            return try ctx.applyHash(alg, p, out: outField, into: &out)
        case .string(let op, let p, let outField):
            return try ctx.applyString(op, p, out: outField, into: &out)
        case .concat(let outField, let parts):
            return try ctx.applyConcat(out: outField, parts: parts, into: &out)
        case .attempt(let inner, let fallback):
            return try ctx.applyTry(inner, fallback: fallback, into: &out)
        case .cachePut(let key, let store, let value):
            return try ctx.applyCachePut(key: key, store: store, value: value)
        case .cacheLookup(let key, let store, let outField):
            return try ctx.applyCacheLookup(key: key, store: store, out: outField, into: &out)
        }
    }

    var readsValue: Bool { true }
}

extension EvalContext {
    nonisolated(unsafe) static let noRecord: UnsafeMutablePointer<InputRecord> = {
        let p = UnsafeMutablePointer<InputRecord>.allocate(capacity: 1)
        p.initialize(to: InputRecord(topic: "", partition: 0, offset: 0, key: nil, value: nil, timestamp: 0))
        return p
    }()

    /// A context used only for its JSON writers over other bytes.
    init(scannerOnly s: JSONScanner) {
        self.recordPointer = UnsafePointer(EvalContext.noRecord)
        self.scanner = s
        self.hasValue = true
        self.index = RecordIndex.inert
    }
}
