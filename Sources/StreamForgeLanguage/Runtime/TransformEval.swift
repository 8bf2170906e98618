#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Value transforms: each writes the new value as compact JSON into an output buffer, copying
// the parts it keeps from the source bytes (so number text and member order survive).

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

    /// Hash input: a string's UTF-8 bytes; any other value its compact JSON text in the
    /// existing tool's form (object keys sorted, numbers as f64 text).
    func hashInput(_ span: JSONSpan) throws(RecordError) -> [UInt8] {
        switch scanner.kind(span) {
        case .string: return scanner.stringBytes(span)
        case .number: return Array(NumberText.normalized(scanner.text(span)).utf8)
        case .bool, .null: return Array(scanner.text(span).utf8)
        case .object, .array:
            do {
                return JSONValue(canonical: try JSONValue(scanner: scanner, span: span)).serialized(sortKeys: true)
            } catch {
                throw malformed(error)
            }
        }
    }

    /// `hashInput`, handed to `body` without a copy for a string with no escapes (the common case).
    func withHashInput(_ span: JSONSpan, _ body: (UnsafeBufferPointer<UInt8>) -> Void) throws(RecordError) {
        if scanner.base[span.start] == 0x22 {
            let inner = span.start &+ 1, n = span.end &- span.start &- 2
            if n == 0 || memchr(scanner.base + inner, 0x5C, n) == nil {
                body(UnsafeBufferPointer(start: scanner.base + inner, count: n))
                return
            }
        }
        try hashInput(span).withUnsafeBufferPointer { body($0) }
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

extension EvalContext {
    /// Appends `{"name":value,…}` for the fields found to `out`: the first pass finds the
    /// values (and sizes them), the second copies them.
    mutating func construct(_ c: ConstructFields, into out: inout [UInt8]) throws(RecordError) {
        try withUnsafeTemporaryAllocation(of: JSONSpan.self, capacity: max(1, c.count)) { found throws(RecordError) in
            try construct(c, found.baseAddress!, into: &out)
        }
    }

    /// `found`: room for a span per field, on the caller's stack.
    mutating func construct(_ c: ConstructFields, _ found: UnsafeMutablePointer<JSONSpan>, into out: inout [UInt8]) throws(RecordError) {
        let n = c.count
        let nodes = c.nodes, starts = c.prefixStart, prefixes = c.prefixBytes
        var size = 2
        for k in 0..<n {
            let node = nodes[k]
            guard let span = node > 0 ? try lookup(node: node) : try lookup(c.paths[k]) else {
                found[k] = JSONSpan(start: -1, end: -1)
                continue
            }
            found[k] = try checked(span)
            size &+= starts[k &+ 1] &- starts[k] &+ 1 &+ span.end &- span.start
        }
        let s = scanner
        // Written into scratch memory (on the stack for the usual sizes), then appended in one
        // go: `append(contentsOf:)` is specialised in this module (and reuses the capacity of a
        // recycled buffer), while the array initialisers that take a size or uninitialised
        // capacity go through the runtime's generic metadata lookup on Linux (several hundred
        // instructions per call).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buf in
            let dst = buf.baseAddress!
            var w = 0
            dst[w] = 0x7B
            w &+= 1
            for k in 0..<n {
                let span = found[k]
                if span.start < 0 { continue }
                if w > 1 { dst[w] = 0x2C; w &+= 1 }
                let len = starts[k &+ 1] &- starts[k]
                copyShort(from: prefixes + starts[k], to: dst + w, count: len)
                w &+= len
                w &+= s.copyCompact(span, to: dst + w)
            }
            dst[w] = 0x7D
            out.append(contentsOf: UnsafeBufferPointer(start: dst, count: w &+ 1))
        }
    }
}

extension JSONValue {
    /// The value with numbers in the existing tool's f64 form (used for hashing).
    init(canonical v: JSONValue) {
        switch v {
        case .number(let t): self = .number(NumberText.normalized(t))
        case .array(let items): self = .array(items.map { JSONValue(canonical: $0) })
        case .object(let members): self = .object(members.map { JSONMember(key: $0.key, value: JSONValue(canonical: $0.value)) })
        default: self = v
        }
    }
}

extension ValueTransform {
    func apply(_ ctx: inout EvalContext, into out: inout [UInt8]) throws(RecordError) -> TransformOutcome {
        let s = ctx.scanner
        switch self {
        case .path(let p):
            guard let span = try ctx.lookup(p) else { return .notFound }
            s.appendCompact(try ctx.checked(span), to: &out)
            return .wrote

        case .construct(let fields):
            try ctx.construct(fields, into: &out)
            return .wrote

        case .arrayMap(let p, let elem, let outField):
            guard let span = try ctx.lookup(p), s.kind(span) == .array else { return .notFound }
            if outField != nil { try ctx.checkWhole() } else { _ = try ctx.checked(span) }
            var arr: [UInt8] = [0x5B]
            var n = 0
            do {
                try s.forEachElement(span) { (e: JSONSpan) throws(JSONScanError) -> Bool in
                    if n > 0 { arr.append(0x2C) }
                    n += 1
                    // An element without the path is kept whole, as the existing tool does.
                    s.appendCompact(try s.lookup(elem, in: e) ?? e, to: &arr)
                    return true
                }
            } catch {
                throw ctx.malformed(error)
            }
            arr.append(0x5D)
            guard let outField else {
                out.append(contentsOf: arr)
                return .wrote
            }
            let root = try ctx.rootSpan()
            guard s.kind(root) == .object else { throw transformError("ARRAY_MAP with an output field needs an object value") }
            try ctx.writeObject(root, setting: outField, to: arr, into: &out)
            return .wrote

        case .arithmetic(let op, let leftPath, let right):
            guard let l = try ctx.lookup(leftPath), s.kind(l) == .number else {
                throw transformError("ARITHMETIC: left operand \(leftPath.quoted) not found or not a number")
            }
            let leftText = s.text(l)
            let rightText: String
            switch right {
            case .constant(_, let text): rightText = text
            case .path(let rp):
                guard let r = try ctx.lookup(rp), s.kind(r) == .number else {
                    throw transformError("ARITHMETIC: right operand \(rp.quoted) not found or not a number")
                }
                rightText = s.text(r)
            }
            out.append(contentsOf: try Arithmetic.compute(op, leftText, rightText).utf8)
            return .wrote

        case .hash(let alg, let p, let outField):
            guard let span = try ctx.lookup(p) else { return .notFound }
            guard let outField else {
                // The hex digits need no JSON escaping: quoted, straight into the output.
                out.append(0x22)
                try ctx.withHashInput(span) { alg.appendHex($0, to: &out) }
                out.append(0x22)
                return .wrote
            }
            var quoted: [UInt8] = [0x22]
            try ctx.withHashInput(span) { alg.appendHex($0, to: &quoted) }
            quoted.append(0x22)
            try ctx.writeRoot(setting: outField, to: quoted, into: &out)
            return .wrote

        case .string(let op, let p, let outField):
            guard let span = try ctx.lookup(p), let input = ctx.scalarText(span) else { return .notFound }
            let result = try StringOps.apply(op, input)
            let root = try ctx.rootSpan()
            if let outField {
                guard s.kind(root) == .object else { throw transformError("STRING: an output field needs the value to be a JSON object") }
                try ctx.writeRoot(setting: outField, to: result, into: &out)
            } else {
                try ctx.checkWhole()
                try ctx.writeReplacing(root, p.segments[...], with: result, into: &out)
            }
            return .wrote

        case .concat(let outField, let parts):
            let root = try ctx.rootSpan()
            guard s.kind(root) == .object else { return .notFound }
            var text: [UInt8] = []
            for part in parts {
                switch part {
                case .literal(let l): text.append(contentsOf: l.utf8)
                case .path(let pp):
                    if let span = try ctx.lookup(pp), let t = ctx.scalarText(span) { text.append(contentsOf: t) }
                }
            }
            var quoted: [UInt8] = []
            JSONValue.writeStringBytes(text, to: &quoted)
            try ctx.writeRoot(setting: outField, to: quoted, into: &out)
            return .wrote

        case .attempt(let inner, let fallback):
            let mark = out.count
            let outcome: TransformOutcome
            do {
                outcome = try inner.apply(&ctx, into: &out)
            } catch where error.kind == .transform {
                outcome = .notFound
            }
            if case .notFound = outcome {
                out.removeSubrange(mark...)
                fallback.write(to: &out)
                return .wrote
            }
            return outcome

        case .cachePut(let keyPath, let store, let valuePath):
            guard let k = try ctx.lookup(keyPath), let key = cacheKey(k, s) else { return .unchanged }
            let vspan: JSONSpan
            if let valuePath {
                guard let v = try ctx.lookup(valuePath) else { return .unchanged }
                vspan = try ctx.checked(v)
            } else {
                try ctx.checkWhole()
                vspan = try ctx.rootSpan()
            }
            var bytes: [UInt8] = []
            s.appendCompact(vspan, to: &bytes)
            store.put(key, bytes)
            return .unchanged

        case .cacheLookup(let keyPath, let store, let outField):
            guard let k = try ctx.lookup(keyPath), let key = cacheKey(k, s), let cached = store.get(key) else { return .notFound }
            if let outField {
                try ctx.writeRoot(setting: outField, to: cached, into: &out)
                return .wrote
            }
            try ctx.checkWhole()
            let root = try ctx.rootSpan()
            // MERGE: the cached object's members override or extend the value's.
            guard s.kind(root) == .object, cached.first == 0x7B else { return .unchanged }
            var merged: [UInt8] = []
            var current: [UInt8] = []
            s.appendCompact(root, to: &current)
            var failed = false
            cached.withUnsafeBytes { raw in
                let cs = JSONScanner(raw)
                do {
                    try cs.forEachMember(JSONSpan(start: 0, end: cached.count)) { (n: JSONSpan, v: JSONSpan) throws(JSONScanError) in
                        let name = cs.decodeStringBytes(start: n.start, end: n.end)
                        var value: [UInt8] = []
                        cs.appendCompact(v, to: &value)
                        merged.removeAll(keepingCapacity: true)
                        current.withUnsafeBytes { craw in
                            let ccs = JSONScanner(craw)
                            let cctx = EvalContext(scannerOnly: ccs)
                            if (try? cctx.writeObject(JSONSpan(start: 0, end: current.count), setting: name, to: value, into: &merged)) == nil {
                                failed = true
                            }
                        }
                        swap(&merged, &current)
                    }
                } catch {
                    failed = true
                }
            }
            if failed { return .unchanged }
            out.append(contentsOf: current)
            return .wrote
        }
    }

    func cacheKey(_ span: JSONSpan, _ s: JSONScanner) -> String? {
        switch s.kind(span) {
        case .string: return s.string(span)
        case .number: return NumberText.normalized(s.text(span))
        default: return nil
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

enum Arithmetic {
    static func isInteger(_ t: String) -> Int64? {
        guard !t.utf8.contains(where: { $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }) else { return nil }
        return Int64(t)
    }

    /// `left OP right` on number texts: integers stay integers where the result is exact;
    /// otherwise an f64, printed as the existing tool prints one (`80.0`).
    static func compute(_ op: ArithmeticOp, _ left: String, _ right: String) throws(RecordError) -> String {
        if let a = isInteger(left), let b = isInteger(right) {
            switch op {
            case .add:
                let (r, o) = a.addingReportingOverflow(b)
                if !o { return String(r) }
            case .sub:
                let (r, o) = a.subtractingReportingOverflow(b)
                if !o { return String(r) }
            case .mul:
                let (r, o) = a.multipliedReportingOverflow(by: b)
                if !o { return String(r) }
            case .div:
                if b == 0 { throw transformError("ARITHMETIC: division by zero") }
                if b != -1 || a != .min, a % b == 0 { return String(a / b) }
            }
        }
        guard let x = Double(left), let y = Double(right) else { throw transformError("ARITHMETIC: operands are not numbers") }
        let r: Double
        switch op {
        case .add: r = x + y
        case .sub: r = x - y
        case .mul: r = x * y
        case .div:
            if y == 0 { throw transformError("ARITHMETIC: division by zero") }
            r = x / y
        }
        guard let text = NumberText.format(r) else { throw transformError("ARITHMETIC: the result is not a finite number") }
        return text
    }
}
