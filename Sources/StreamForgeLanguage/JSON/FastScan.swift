// The scanner's inner loops. They never throw: each returns the index after what it skipped, or
// -1 when the text is not JSON there. Callers that must explain a failure re-run the slow,
// throwing functions of JSONScanner.swift on the same bytes (errors are rare; the message costs
// nothing on the fast path).
//
// Strings and containers are skipped sixteen bytes at a time with SSE2 compares (in the
// CJSONScan module; eight bytes at a time in 64-bit words elsewhere). Other runs (digits) use
// 64-bit words: one load and a flag test per byte value of interest.

import CJSONScan

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@usableFromInline let swarOnes: UInt64 = 0x0101_0101_0101_0101
@usableFromInline let swarHigh: UInt64 = 0x8080_8080_8080_8080

/// Bytes of `v` equal to zero are flagged with their high bit. Only the lowest flag is exact
/// (a borrow can flag a byte above a real zero), which is the only one read here.
@inline(__always) func swarZero(_ v: UInt64) -> UInt64 { (v &- swarOnes) & ~v & swarHigh }

/// Copies `n` bytes between buffers that do not overlap. Up to 16 bytes (most names and
/// scalars) with two overlapping word moves, inline; longer with memcpy.
@inline(__always) func copyShort(from src: UnsafePointer<UInt8>, to dst: UnsafeMutablePointer<UInt8>, count n: Int) {
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
    if n >= 8 && n <= 16 {
        let a = s.loadUnaligned(as: UInt64.self), b = s.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        d.storeBytes(of: a, as: UInt64.self)
        d.storeBytes(of: b, toByteOffset: n &- 8, as: UInt64.self)
    } else if n >= 4 && n < 8 {
        let a = s.loadUnaligned(as: UInt32.self), b = s.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
        d.storeBytes(of: a, as: UInt32.self)
        d.storeBytes(of: b, toByteOffset: n &- 4, as: UInt32.self)
    } else if n < 4 {
        for i in 0..<n { dst[i] = src[i] }
    } else {
        memcpy(d, s, n)
    }
}

extension JSONScanner {
    @inline(__always) func load8(_ p: Int) -> UInt64 {
        UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self)
    }

    @inline(__always) func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
    }

    /// Whitespace is rare in Kafka payloads: one compare decides the common case.
    @inline(__always) func ws(_ i: Int) -> Int {
        var p = i
        while p < count, base[p] <= 0x20, isSpace(base[p]) { p &+= 1 }
        return p
    }

    /// `ws`, setting `spaced` when it skipped something.
    @inline(__always) func ws(_ i: Int, noting spaced: inout Bool) -> Int {
        let p = ws(i)
        if p != i { spaced = true }
        return p
    }

    /// `i` at an opening quote: the index after the closing quote, or -1.
    @inline(__always) func fastStringEnd(_ i: Int) -> Int {
        sf_string_end(base, count, i &+ 1)
    }

    /// `i` at an opening quote of a member name: the index after the closing quote (or -1), and
    /// whether the name holds an escape.
    @inline(__always) func fastKeyEnd(_ i: Int, escaped: inout Bool) -> Int {
        var flag: Int32 = 0
        let r = sf_string_scan(base, count, i &+ 1, &flag)
        if flag != 0 { escaped = true }
        return r
    }

    /// Skips the rest of containers from `i`, `depth` levels deep: the index after the bracket
    /// that closes the outermost one, or -1. Brackets are counted, strings jumped over.
    @inline(__always) func fastSkipOpen(_ i: Int, depth: Int) -> Int {
        sf_skip_open(base, count, i, depth)
    }

    /// `i` at the first byte of a value: the index after it, or -1. Containers are skipped by
    /// counting (their insides are not checked).
    @inline(__always) func fastValueEnd(_ i: Int) -> Int {
        guard i < count else { return -1 }
        switch base[i] {
        case 0x22: return fastStringEnd(i)
        case 0x7B, 0x5B: return fastSkipOpen(i &+ 1, depth: 1)
        case 0x74: return fastWord(i, 0x6575_7274, 4)        // true
        case 0x66: return i &+ 5 <= count && base[i &+ 4] == 0x65 ? fastWord(i, 0x736C_6166, 5) : -1  // false
        case 0x6E: return fastWord(i, 0x6C6C_756E, 4)        // null
        default: return fastNumberEnd(i)
        }
    }

    /// `fastValueEnd` with its two common cases (a string, a container) decided inline.
    @inline(__always) func fastSkipValue(_ i: Int) -> Int {
        guard i < count else { return -1 }
        let b = base[i]
        if b == 0x22 { return fastStringEnd(i) }
        if b | 0x20 == 0x7B { return fastSkipOpen(i &+ 1, depth: 1) }
        return fastValueEnd(i)
    }

    /// The four bytes at `i` equal `word` (little-endian): `i + n`, else -1.
    @inline(__always) func fastWord(_ i: Int, _ word: UInt32, _ n: Int) -> Int {
        guard i &+ 4 <= count, UnsafeRawPointer(base + i).loadUnaligned(as: UInt32.self) == word else { return -1 }
        return i &+ n
    }

    @inline(__always) func isDigit(_ p: Int) -> Bool { p < count && base[p] &- 0x30 < 10 }

    /// The first index at or after `i` that is not an ASCII digit, eight bytes at a time: a byte
    /// is flagged when `byte ^ 0x30` is 10 or more (no carry crosses bytes, so every flag is exact).
    @inline(__always) func digitsEnd(_ i: Int) -> Int {
        var p = i
        while p &+ 8 <= count {
            let x = load8(p) ^ 0x3030_3030_3030_3030
            let other = (((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7676_7676_7676_7676) | x) & swarHigh
            if other != 0 { return p &+ (other.trailingZeroBitCount >> 3) }
            p &+= 8
        }
        while isDigit(p) { p &+= 1 }
        return p
    }

    /// A number in RFC 8259 grammar at `i`: the index after it, or -1.
    @inline(__always) func fastNumberEnd(_ i: Int) -> Int {
        var p = i
        if p < count && base[p] == 0x2D { p &+= 1 }
        guard isDigit(p) else { return -1 }
        if base[p] == 0x30 {
            p &+= 1
            if isDigit(p) { return -1 }
        } else {
            p = digitsEnd(p &+ 1)
        }
        if p < count && base[p] == 0x2E {
            p &+= 1
            guard isDigit(p) else { return -1 }
            p = digitsEnd(p &+ 1)
        }
        if p < count && base[p] | 0x20 == 0x65 {
            p &+= 1
            if p < count && (base[p] == 0x2B || base[p] == 0x2D) { p &+= 1 }
            guard isDigit(p) else { return -1 }
            p = digitsEnd(p &+ 1)
        }
        return p
    }

    /// Copies the value at `span` to `dst` as compact JSON (whitespace outside strings dropped;
    /// everything else exactly as written). Returns the bytes written, at most the span's size.
    @inline(__always)
    func copyCompact(_ span: JSONSpan, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        let k = base[span.start]
        if k != 0x7B && k != 0x5B {
            copyShort(from: base + span.start, to: dst, count: span.end &- span.start)
            return span.end &- span.start
        }
        return copyCompactContainer(span, to: dst)
    }

    func copyCompactContainer(_ span: JSONSpan, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        sf_copy_compact(base, span.start, span.end, dst)
    }

    /// True when the string at `span` equals `bytes` after decoding.
    @inline(__always)
    func stringEquals(_ span: JSONSpan, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let s = span.start &+ 1, n = span.end &- span.start &- 2
        if n == bytes.count && (n == 0 || memcmp(base + s, bytes.baseAddress!, n) == 0) { return true }
        if memchr(base + s, 0x5C, n) == nil { return false }
        return decodeStringBytes(start: s, end: s &+ n).elementsEqual(bytes)
    }

    // MARK: - Lookups relative to a value (array elements)

    /// Follows `pointer` from `span` without throwing: 1 = found (in `out`), 0 = missing,
    /// -1 = not JSON on the way.
    func fastLookup(_ pointer: JSONPointer, in span: JSONSpan, _ out: inout JSONSpan) -> Int {
        var cur = span
        for seg in pointer.segments {
            let b = base[cur.start]
            let r: Int
            if b == 0x7B {
                r = seg.key.withUnsafeBufferPointer { fastMember($0, of: cur.start, &cur) }
            } else if b == 0x5B, let idx = seg.index {
                r = fastElement(idx, of: cur.start, &cur)
            } else {
                return 0
            }
            if r != 1 { return r }
        }
        out = cur
        return 1
    }

    /// The first member named `key` of the object at `i`: 1 (in `out`), 0 missing, -1 not JSON.
    func fastMember(_ key: UnsafeBufferPointer<UInt8>, of i: Int, _ out: inout JSONSpan) -> Int {
        var q = ws(i &+ 1)
        guard q < count else { return -1 }
        if base[q] == 0x7D { return 0 }
        while true {
            guard q < count, base[q] == 0x22 else { return -1 }
            var escaped = false
            let ke = fastKeyEnd(q, escaped: &escaped)
            guard ke >= 0 else { return -1 }
            let len = ke &- q - 2
            var match = len == key.count && (len == 0 || memcmp(base + q + 1, key.baseAddress!, len) == 0)
            if !match && escaped { match = decodeStringBytes(start: q &+ 1, end: ke &- 1).elementsEqual(key) }
            q = ws(ke)
            guard q < count, base[q] == 0x3A else { return -1 }
            q = ws(q &+ 1)
            let ve = fastValueEnd(q)
            guard ve >= 0 else { return -1 }
            if match {
                out = JSONSpan(start: q, end: ve)
                return 1
            }
            q = ws(ve)
            guard q < count else { return -1 }
            if base[q] == 0x2C {
                q = ws(q &+ 1)
            } else {
                return base[q] == 0x7D ? 0 : -1
            }
        }
    }

    /// The first member named `key` of the object at `i` (1 found, in `out`; 0 missing;
    /// -1 not JSON), and the index after the object (-1 when not JSON).
    func fastMemberAndEnd(_ key: UnsafeBufferPointer<UInt8>, of i: Int, _ out: inout JSONSpan) -> (Int, Int) {
        var found = 0
        var q = ws(i &+ 1)
        guard q < count else { return (-1, -1) }
        if base[q] == 0x7D { return (0, q &+ 1) }
        while true {
            guard q < count, base[q] == 0x22 else { return (-1, -1) }
            var escaped = false
            let ke = fastKeyEnd(q, escaped: &escaped)
            guard ke >= 0 else { return (-1, -1) }
            var match = false
            if found == 0 {
                let len = ke &- q - 2
                match = len == key.count && (len == 0 || memcmp(base + q + 1, key.baseAddress!, len) == 0)
                if !match && escaped { match = decodeStringBytes(start: q &+ 1, end: ke &- 1).elementsEqual(key) }
            }
            q = ws(ke)
            guard q < count, base[q] == 0x3A else { return (-1, -1) }
            q = ws(q &+ 1)
            let ve = fastValueEnd(q)
            guard ve >= 0 else { return (-1, -1) }
            if match {
                out = JSONSpan(start: q, end: ve)
                found = 1
            }
            q = ws(ve)
            guard q < count else { return (-1, -1) }
            if base[q] == 0x2C {
                q = ws(q &+ 1)
            } else {
                return base[q] == 0x7D ? (found, q &+ 1) : (-1, -1)
            }
        }
    }

    /// Element `index` of the array at `i`: 1 (in `out`), 0 missing, -1 not JSON.
    func fastElement(_ index: Int, of i: Int, _ out: inout JSONSpan) -> Int {
        var q = ws(i &+ 1)
        guard q < count else { return -1 }
        if base[q] == 0x5D { return 0 }
        var n = 0
        while true {
            let ve = fastValueEnd(q)
            guard ve >= 0 else { return -1 }
            if n == index {
                out = JSONSpan(start: q, end: ve)
                return 1
            }
            n &+= 1
            q = ws(ve)
            guard q < count else { return -1 }
            if base[q] == 0x2C {
                q = ws(q &+ 1)
            } else {
                return base[q] == 0x5D ? 0 : -1
            }
        }
    }

    // MARK: - A tight structural validator

    /// Checks the value at `i` completely (RFC 8259 grammar, at most 512 containers deep; string
    /// contents are not checked for control characters or UTF-8): the index after it, or -1.
    /// One loop with an explicit stack of open brackets, no call per value.
    func fastValidate(_ i: Int) -> Int {
        var spaced = false
        return fastValidate(i, spaced: &spaced)
    }

    /// `fastValidate`, and `spaced` set when there is whitespace between tokens (the value is
    /// not compact JSON). `depth`: containers already open around the value (they count
    /// against the nesting limit of 512).
    func fastValidate(_ i: Int, spaced: inout Bool, depth: Int = 0) -> Int {
        // The flag comes back in the result's low bit: kept in a local of the loop, it stays in
        // a register.
        let r = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 512) { stack -> Int in
            var sawSpace = false
            var sp = 0
            var p = i
            var expectKey = false
            var afterValue = false
            while true {
                if afterValue {
                    if sp == 0 { return p << 1 | (sawSpace ? 1 : 0) }
                    p = ws(p, noting: &sawSpace)
                    guard p < count else { return -1 }
                    let c = base[p]
                    let open = stack[sp &- 1]
                    if c == 0x2C {
                        p = ws(p &+ 1, noting: &sawSpace)
                        afterValue = false
                        expectKey = open == 0x7B
                    } else if c == open &+ 2 {
                        sp &-= 1
                        p &+= 1
                    } else {
                        return -1
                    }
                    continue
                }
                if expectKey {
                    guard p < count, base[p] == 0x22 else { return -1 }
                    p = fastStringEnd(p)
                    guard p >= 0 else { return -1 }
                    p = ws(p, noting: &sawSpace)
                    guard p < count, base[p] == 0x3A else { return -1 }
                    p = ws(p &+ 1, noting: &sawSpace)
                    expectKey = false
                }
                guard p < count else { return -1 }
                let b = base[p]
                if b == 0x7B || b == 0x5B {
                    guard sp &+ depth < 512 else { return -1 }
                    p = ws(p &+ 1, noting: &sawSpace)
                    guard p < count else { return -1 }
                    if base[p] == b &+ 2 {
                        p &+= 1
                        afterValue = true
                    } else {
                        stack[sp] = b
                        sp &+= 1
                        expectKey = b == 0x7B
                    }
                    continue
                }
                p = fastValueEnd(p)
                guard p >= 0 else { return -1 }
                afterValue = true
            }
        }
        if r < 0 { return -1 }
        if r & 1 != 0 { spaced = true }
        return r >> 1
    }

    /// True when the value at `span` is well-formed throughout (scalars were checked when found).
    func isWellFormed(_ span: JSONSpan) -> Bool {
        let b = base[span.start]
        if b != 0x7B && b != 0x5B { return true }
        return fastValidate(span.start) == span.end
    }
}
