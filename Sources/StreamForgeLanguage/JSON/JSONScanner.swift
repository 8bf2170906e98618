// A lazy JSON scanner over a record's bytes: it finds only the values a destination asks for
// and skips everything else by bracket and quote counting. Nothing is allocated to find a value.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The location of one JSON value inside the scanned bytes: `[start, end)`.
public struct JSONSpan: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public init(start: Int, end: Int) { self.start = start; self.end = end }
}

public struct JSONScanError: Error, Sendable, Equatable {
    public let offset: Int
    public let message: String
}

/// A byte view of JSON text. Borrowed: valid only while the bytes are.
public struct JSONScanner {
    public let base: UnsafePointer<UInt8>
    public let count: Int

    public init(_ buffer: UnsafeRawBufferPointer) {
        if let b = buffer.baseAddress, buffer.count > 0 {
            self.base = b.assumingMemoryBound(to: UInt8.self)
            self.count = buffer.count
        } else {
            // A static empty buffer: every read is bounds-checked against count == 0.
            self.base = JSONScanner.emptyByte
            self.count = 0
        }
    }

    nonisolated(unsafe) static let emptyByte: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        p.pointee = 0
        return UnsafePointer(p)
    }()

    public subscript(_ i: Int) -> UInt8 { base[i] }

    // MARK: - Tokens

    public func skipWhitespace(_ i: Int) -> Int {
        var i = i
        while i < count {
            let b = base[i]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { i += 1 } else { break }
        }
        return i
    }

    /// The root value's span (whitespace around it excluded). Only the first token is checked;
    /// the rest is checked as far as it is read.
    public func root() throws(JSONScanError) -> JSONSpan {
        let s = skipWhitespace(0)
        guard s < count else { throw JSONScanError(offset: s, message: "empty payload") }
        let e = try valueEnd(s)
        let after = skipWhitespace(e)
        guard after == count else { throw JSONScanError(offset: after, message: "unexpected data after the JSON value") }
        return JSONSpan(start: s, end: e)
    }

    /// `i` at an opening quote; returns the index after the closing quote.

    @inline(__always)
    public func stringEnd(_ i: Int) throws(JSONScanError) -> Int {
        let e = fastStringEnd(i)
        if e >= 0 { return e }
        return try slowStringEnd(i)
    }

    func slowStringEnd(_ i: Int) throws(JSONScanError) -> Int {
        var p = i + 1
        while p < count {
            let b = base[p]
            if b == 0x22 { return p + 1 }
            if b == 0x5C { p += 2; continue }
            p += 1
        }
        throw JSONScanError(offset: i, message: "unterminated string")
    }

    /// `i` at the first byte of a value; returns the index after the value.

    @inline(__always)
    public func valueEnd(_ i: Int) throws(JSONScanError) -> Int {
        let e = fastValueEnd(i)
        if e >= 0 { return e }
        return try slowValueEnd(i)
    }

    /// The slow, explaining form of `valueEnd`, run when the fast one failed.
    func slowValueEnd(_ i: Int) throws(JSONScanError) -> Int {
        guard i < count else { throw JSONScanError(offset: i, message: "expected a value") }
        let b = base[i]
        switch b {
        case 0x22: return try stringEnd(i)
        case 0x7B, 0x5B: return try containerEnd(i)
        case 0x74: return try literalEnd(i, "true")
        case 0x66: return try literalEnd(i, "false")
        case 0x6E: return try literalEnd(i, "null")
        case 0x2D, 0x30...0x39: return try numberEnd(i)
        default: throw JSONScanError(offset: i, message: "unexpected character '\(printable(b))'")
        }
    }

    func printable(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16)
    }

    func literalEnd(_ i: Int, _ word: StaticString) throws(JSONScanError) -> Int {
        let n = word.utf8CodeUnitCount
        guard i + n <= count, memcmp(base + i, word.utf8Start, n) == 0 else {
            throw JSONScanError(offset: i, message: "invalid literal")
        }
        return i + n
    }

    func numberEnd(_ i: Int) throws(JSONScanError) -> Int {
        var p = i
        if base[p] == 0x2D { p += 1 }
        let digitsStart = p
        while p < count, base[p] >= 0x30 && base[p] <= 0x39 { p += 1 }
        guard p > digitsStart else { throw JSONScanError(offset: i, message: "invalid number") }
        if p - digitsStart > 1 && base[digitsStart] == 0x30 { throw JSONScanError(offset: i, message: "invalid number (leading zero)") }
        if p < count && base[p] == 0x2E {
            p += 1
            let f = p
            while p < count, base[p] >= 0x30 && base[p] <= 0x39 { p += 1 }
            guard p > f else { throw JSONScanError(offset: i, message: "invalid number") }
        }
        if p < count && (base[p] == 0x65 || base[p] == 0x45) {
            p += 1
            if p < count && (base[p] == 0x2B || base[p] == 0x2D) { p += 1 }
            let e = p
            while p < count, base[p] >= 0x30 && base[p] <= 0x39 { p += 1 }
            guard p > e else { throw JSONScanError(offset: i, message: "invalid number") }
        }
        return p
    }

    /// `i` at `{` or `[`; skips to after the matching bracket by counting, jumping over strings.

    func containerEnd(_ i: Int) throws(JSONScanError) -> Int {
        var depth = 0
        var p = i
        while p < count {
            let b = base[p]
            if b == 0x22 {
                p = try slowStringEnd(p)
                continue
            }
            if b == 0x7B || b == 0x5B {
                depth += 1
            } else if b == 0x7D || b == 0x5D {
                depth -= 1
                if depth == 0 { return p + 1 }
            }
            p += 1
        }
        throw JSONScanError(offset: i, message: "unterminated \(base[i] == 0x7B ? "object" : "array")")
    }

    // MARK: - Lookup

    /// Follows `pointer` from `span`. Returns nil when it does not resolve (missing).

    public func lookup(_ pointer: JSONPointer, in span: JSONSpan) throws(JSONScanError) -> JSONSpan? {
        var found = span
        switch fastLookup(pointer, in: span, &found) {
        case 1: return found
        case 0: return nil
        default: return try slowLookup(pointer, in: span)
        }
    }

    /// The explaining form of `lookup`, run when the fast one met malformed JSON.
    func slowLookup(_ pointer: JSONPointer, in span: JSONSpan) throws(JSONScanError) -> JSONSpan? {
        var cur = span
        for seg in pointer.segments {
            guard let next = try child(seg, of: cur) else { return nil }
            cur = next
        }
        return cur
    }

    public func child(_ seg: JSONPointer.Segment, of span: JSONSpan) throws(JSONScanError) -> JSONSpan? {
        let b = base[span.start]
        if b == 0x7B {
            return try member(seg.key, of: span)
        } else if b == 0x5B, let idx = seg.index {
            return try element(idx, of: span)
        }
        return nil
    }

    /// The value of member `key` of the object at `span`.

    public func member(_ key: [UInt8], of span: JSONSpan) throws(JSONScanError) -> JSONSpan? {
        var p = skipWhitespace(span.start + 1)
        guard p < count else { throw JSONScanError(offset: p, message: "unterminated object") }
        if base[p] == 0x7D { return nil }
        while true {
            guard p < count, base[p] == 0x22 else { throw JSONScanError(offset: p, message: "expected a member name") }
            let keyEnd = try stringEnd(p)
            let match = keyEquals(start: p + 1, end: keyEnd - 1, key)
            p = skipWhitespace(keyEnd)
            guard p < count, base[p] == 0x3A else { throw JSONScanError(offset: p, message: "expected ':'") }
            p = skipWhitespace(p + 1)
            let vEnd = try valueEnd(p)
            if match { return JSONSpan(start: p, end: vEnd) }
            p = skipWhitespace(vEnd)
            guard p < count else { throw JSONScanError(offset: p, message: "unterminated object") }
            if base[p] == 0x2C {
                p = skipWhitespace(p + 1)
            } else if base[p] == 0x7D {
                return nil
            } else {
                throw JSONScanError(offset: p, message: "expected ',' or '}'")
            }
        }
    }

    func keyEquals(start: Int, end: Int, _ key: [UInt8]) -> Bool {
        let n = end - start
        if n == key.count {
            let same = key.withUnsafeBufferPointer { kb in
                n == 0 || memcmp(base + start, kb.baseAddress!, n) == 0
            }
            if same { return true }
        }
        // A name written with escapes is compared after decoding.
        if memchr(base + start, 0x5C, n) == nil { return false }
        return decodeStringBytes(start: start, end: end) == key
    }

    /// Element `index` of the array at `span`.
    public func element(_ index: Int, of span: JSONSpan) throws(JSONScanError) -> JSONSpan? {
        var found: JSONSpan?
        var n = 0
        try forEachElement(span) { (e: JSONSpan) -> Bool in
            if n == index { found = e; return false }
            n += 1
            return true
        }
        return found
    }

    /// Calls `body` for each element of the array at `span`; stop by returning false.

    public func forEachElement(_ span: JSONSpan, _ body: (JSONSpan) throws(JSONScanError) -> Bool) throws(JSONScanError) {
        var p = skipWhitespace(span.start + 1)
        guard p < count else { throw JSONScanError(offset: p, message: "unterminated array") }
        if base[p] == 0x5D { return }
        while true {
            let e = try valueEnd(p)
            if !(try body(JSONSpan(start: p, end: e))) { return }
            p = skipWhitespace(e)
            guard p < count else { throw JSONScanError(offset: p, message: "unterminated array") }
            if base[p] == 0x2C {
                p = skipWhitespace(p + 1)
            } else if base[p] == 0x5D {
                return
            } else {
                throw JSONScanError(offset: p, message: "expected ',' or ']'")
            }
        }
    }

    /// Calls `body` with each member's name span (inside the quotes) and value span.
    public func forEachMember(_ span: JSONSpan, _ body: (JSONSpan, JSONSpan) throws(JSONScanError) -> Void) throws(JSONScanError) {
        var p = skipWhitespace(span.start + 1)
        guard p < count else { throw JSONScanError(offset: p, message: "unterminated object") }
        if base[p] == 0x7D { return }
        while true {
            guard p < count, base[p] == 0x22 else { throw JSONScanError(offset: p, message: "expected a member name") }
            let keyEnd = try stringEnd(p)
            let name = JSONSpan(start: p + 1, end: keyEnd - 1)
            p = skipWhitespace(keyEnd)
            guard p < count, base[p] == 0x3A else { throw JSONScanError(offset: p, message: "expected ':'") }
            p = skipWhitespace(p + 1)
            let vEnd = try valueEnd(p)
            try body(name, JSONSpan(start: p, end: vEnd))
            p = skipWhitespace(vEnd)
            guard p < count else { throw JSONScanError(offset: p, message: "unterminated object") }
            if base[p] == 0x2C {
                p = skipWhitespace(p + 1)
            } else if base[p] == 0x7D {
                return
            } else {
                throw JSONScanError(offset: p, message: "expected ',' or '}'")
            }
        }
    }

    // MARK: - Values

    public enum Kind: Sendable { case object, array, string, number, bool, null }

    public func kind(_ span: JSONSpan) -> Kind {
        switch base[span.start] {
        case 0x7B: return .object
        case 0x5B: return .array
        case 0x22: return .string
        case 0x74, 0x66: return .bool
        case 0x6E: return .null
        default: return .number
        }
    }

    /// The decoded bytes of the string at `span` (quotes included in the span).
    public func stringBytes(_ span: JSONSpan) -> [UInt8] {
        decodeStringBytes(start: span.start + 1, end: span.end - 1)
    }

    public func string(_ span: JSONSpan) -> String {
        let s = span.start + 1, e = span.end - 1
        if memchr(base + s, 0x5C, e - s) == nil {
            return String(decoding: UnsafeBufferPointer(start: base + s, count: e - s), as: UTF8.self)
        }
        return String(decoding: decodeStringBytes(start: s, end: e), as: UTF8.self)
    }

    /// True when the string at `span` equals `bytes` after decoding.

    public func stringEquals(_ span: JSONSpan, _ bytes: [UInt8]) -> Bool {
        keyEquals(start: span.start + 1, end: span.end - 1, bytes)
    }

    /// Decodes the inside of a JSON string (between the quotes).
    public func decodeStringBytes(start: Int, end: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var p = start
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= end else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = base[at + k]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: return nil
                }
                v = v << 4 | d
            }
            return v
        }
        while p < end {
            let b = base[p]
            if b != 0x5C { out.append(b); p += 1; continue }
            guard p + 1 < end else { break }
            let e = base[p + 1]
            p += 2
            switch e {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard var cp = hex4(p) else { out.append(contentsOf: "\u{FFFD}".utf8); continue }
                p += 4
                if cp >= 0xD800 && cp < 0xDC00 {
                    if p + 1 < end, base[p] == 0x5C, base[p + 1] == 0x75, let lo = hex4(p + 2), lo >= 0xDC00 && lo < 0xE000 {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                        p += 6
                    } else {
                        cp = 0xFFFD
                    }
                } else if cp >= 0xDC00 && cp < 0xE000 {
                    cp = 0xFFFD
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(cp)!)).utf8)
            default:
                out.append(e)
            }
        }
        return out
    }

    /// The number at `span` as a Double (nil when it is not a number).

    public func double(_ span: JSONSpan) -> Double? {
        let b = base[span.start]
        guard b == 0x2D || (b >= 0x30 && b <= 0x39) else { return nil }
        // Fast path: a plain integer of up to 15 digits is exact.
        var p = span.start
        var neg = false
        if base[p] == 0x2D { neg = true; p += 1 }
        if span.end - p <= 15 {
            var v: Int64 = 0
            var plain = true
            while p < span.end {
                let c = base[p]
                guard c >= 0x30 && c <= 0x39 else { plain = false; break }
                v = v &* 10 &+ Int64(c &- 0x30)
                p += 1
            }
            if plain { return Double(neg ? -v : v) }
        }
        // Decimal fraction of up to 15 significant digits: one exact division, correctly
        // rounded (the classic fast path of decimal-to-binary conversion).
        p = span.start + (neg ? 1 : 0)
        var m: Int64 = 0
        var digits = 0
        var fraction = -1
        while p < span.end {
            let c = base[p]
            if c &- 0x30 < 10 {
                m = m &* 10 &+ Int64(c &- 0x30)
                digits += 1
                if fraction >= 0 { fraction += 1 }
            } else if c == 0x2E && fraction < 0 {
                fraction = 0
            } else {
                digits = 99
                break
            }
            p += 1
        }
        if digits <= 15 && fraction > 0 {
            let d = Double(m) / JSONScanner.powersOfTen[fraction]
            return neg ? -d : d
        }
        return parseDouble(span)
    }

    static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { r, _ in r * 10 } }

    func parseDouble(_ span: JSONSpan) -> Double? {
        let n = span.end - span.start
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf in
            for k in 0..<n { buf[k] = CChar(bitPattern: base[span.start + k]) }
            buf[n] = 0
            return strtod(buf.baseAddress!, nil)
        }
    }

    /// The raw text of `span`.
    public func text(_ span: JSONSpan) -> String {
        String(decoding: UnsafeBufferPointer(start: base + span.start, count: span.end - span.start), as: UTF8.self)
    }

    /// Appends the value at `span` to `out` as compact JSON: whitespace outside strings is
    /// dropped; strings, number text and member order are kept exactly.
    public func appendCompact(_ span: JSONSpan, to out: inout [UInt8]) {
        let n = span.end &- span.start
        let k = base[span.start]
        if k != 0x7B && k != 0x5B {
            out.append(contentsOf: UnsafeBufferPointer(start: base + span.start, count: n))
            return
        }
        // Compacted into scratch memory (on the stack for the usual sizes), then one append.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { buf in
            let w = copyCompactContainer(span, to: buf.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(start: buf.baseAddress!, count: w))
        }
    }

    // MARK: - Full check

    /// Checks that the whole text is one well-formed JSON value (RFC 8259 grammar; string
    /// contents are not checked for control characters or UTF-8).
    public func validate() throws(JSONScanError) {
        let s = ws(0)
        if s < count {
            let e = fastValidate(s)
            if e >= 0 && ws(e) == count { return }
        }
        try slowValidate()
        throw JSONScanError(offset: s, message: "malformed JSON")
    }

    func slowValidate() throws(JSONScanError) {
        var p = skipWhitespace(0)
        guard p < count else { throw JSONScanError(offset: p, message: "empty payload") }
        p = try validateValue(p, depth: 0)
        p = skipWhitespace(p)
        guard p == count else { throw JSONScanError(offset: p, message: "unexpected data after the JSON value") }
    }

    /// `depth`: containers open around the value. The limit counts containers (512, as
    /// `fastValidate`): a scalar inside the 512th is fine, a 513th container is not.
    func validateValue(_ i: Int, depth: Int) throws(JSONScanError) -> Int {
        guard i < count else { throw JSONScanError(offset: i, message: "expected a value") }
        if (base[i] == 0x7B || base[i] == 0x5B) && depth >= 512 {
            throw JSONScanError(offset: i, message: "nesting too deep")
        }
        switch base[i] {
        case 0x7B:
            var p = skipWhitespace(i + 1)
            guard p < count else { throw JSONScanError(offset: p, message: "unterminated object") }
            if base[p] == 0x7D { return p + 1 }
            while true {
                guard p < count, base[p] == 0x22 else { throw JSONScanError(offset: p, message: "expected a member name") }
                p = skipWhitespace(try slowStringEnd(p))
                guard p < count, base[p] == 0x3A else { throw JSONScanError(offset: p, message: "expected ':'") }
                p = skipWhitespace(try validateValue(skipWhitespace(p + 1), depth: depth + 1))
                guard p < count else { throw JSONScanError(offset: p, message: "unterminated object") }
                if base[p] == 0x2C { p = skipWhitespace(p + 1); continue }
                if base[p] == 0x7D { return p + 1 }
                throw JSONScanError(offset: p, message: "expected ',' or '}'")
            }
        case 0x5B:
            var p = skipWhitespace(i + 1)
            guard p < count else { throw JSONScanError(offset: p, message: "unterminated array") }
            if base[p] == 0x5D { return p + 1 }
            while true {
                p = skipWhitespace(try validateValue(p, depth: depth + 1))
                guard p < count else { throw JSONScanError(offset: p, message: "unterminated array") }
                if base[p] == 0x2C { p = skipWhitespace(p + 1); continue }
                if base[p] == 0x5D { return p + 1 }
                throw JSONScanError(offset: p, message: "expected ',' or ']'")
            }
        default:
            return try slowValueEnd(i)
        }
    }
}
