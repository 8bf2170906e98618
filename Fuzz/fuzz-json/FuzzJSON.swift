// libFuzzer target: the JSON scanner's fast paths (SSE2 loops in CJSONScan, 8-byte words and
// the one-loop validator in FastScan.swift) against the byte-at-a-time functions of
// JSONScanner.swift, on the same bytes. Both must agree on validity, on where every string,
// number and container ends, on the values member and element lookups find, and on compact
// copies. Any disagreement traps, and libFuzzer keeps the input.
//
// Written here because the property is StreamForge's own: no fuzzing library knows which of
// our two scanners is the reference. `make fuzz` runs it (scripts/fuzz.sh).

@testable import StreamForgeCore
@testable import StreamForgeIPC
@testable import StreamForgeLanguage

#if canImport(Glibc)
import Glibc
#endif

/// Stops the run with a message libFuzzer shows next to the reproducer.
func mismatch(_ what: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Never {
    let shown = String(decoding: bytes.prefix(200), as: UTF8.self)
    fatalError("fast and slow scanners disagree: \(what) on \(shown.debugDescription)")
}

/// Whitespace outside strings removed, byte at a time (the reference for compact copies).
func referenceCompact(_ b: UnsafeBufferPointer<UInt8>, _ span: JSONSpan) -> [UInt8] {
    var out: [UInt8] = []
    var p = span.start
    while p < span.end {
        let c = b[p]
        if c == 0x22 {
            var q = p + 1
            while q < span.end && b[q] != 0x22 { q += b[q] == 0x5C ? 2 : 1 }
            let e = min(q + 1, span.end)
            out += b[p..<e]
            p = e
            continue
        }
        if c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 { out.append(c) }
        p += 1
    }
    return out
}

/// 1 and the span when found, 0 when missing, -1 when the slow function threw: the fast
/// functions' convention.
func outcome(_ body: () throws(JSONScanError) -> JSONSpan?) -> (Int, JSONSpan?) {
    do {
        guard let span = try body() else { return (0, nil) }
        return (1, span)
    } catch {
        return (-1, nil)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let s = JSONScanner(UnsafeRawBufferPointer(bytes))

    // 1. The primitives, at every byte that starts a token (at most 256 of them).
    var tested = 0
    for i in 0..<size where tested < 256 {
        let b = bytes[i]
        switch b {
        case 0x22:
            tested += 1
            let slow = (try? s.slowStringEnd(i)) ?? -1
            if s.fastStringEnd(i) != slow { mismatch("end of the string at \(i)", bytes) }
            var escaped = false
            if s.fastKeyEnd(i, escaped: &escaped) != slow { mismatch("end of the name at \(i)", bytes) }
            if slow >= 0 {
                let hasEscape = bytes[(i + 1)..<(slow - 1)].contains(0x5C)
                if escaped != hasEscape { mismatch("escape flag of the string at \(i)", bytes) }
                // A string always equals its own decoded text, through both comparisons.
                let span = JSONSpan(start: i, end: slow)
                let decoded = s.stringBytes(span)
                if !s.stringEquals(span, decoded) { mismatch("string comparison at \(i)", bytes) }
                let same = decoded.withUnsafeBufferPointer { s.stringEquals(span, $0) }
                if !same { mismatch("unsafe string comparison at \(i)", bytes) }
            }
        case 0x7B, 0x5B:
            tested += 1
            let slow = (try? s.containerEnd(i)) ?? -1
            if s.fastSkipOpen(i + 1, depth: 1) != slow { mismatch("end of the container at \(i)", bytes) }
        case 0x2D, 0x30...0x39:
            tested += 1
            let slow = (try? s.numberEnd(i)) ?? -1
            let fast = s.fastNumberEnd(i)
            if fast != slow { mismatch("end of the number at \(i): fast \(fast), slow \(slow)", bytes) }
            if slow >= 0, let d = s.double(JSONSpan(start: i, end: slow)) {
                let reference = s.parseDouble(JSONSpan(start: i, end: slow))
                if reference != d { mismatch("value of the number at \(i): \(d) vs strtod \(String(describing: reference))", bytes) }
            }
        default:
            continue
        }
        let slowValue = (try? s.slowValueEnd(i)) ?? -1
        if s.fastValueEnd(i) != slowValue { mismatch("end of the value at \(i)", bytes) }
        if s.fastSkipValue(i) != slowValue { mismatch("skip of the value at \(i)", bytes) }
    }

    // 2. Validity: the one-loop validator against the recursive one.
    let start = s.ws(0)
    var spaced = false
    let fastEnd = start < size ? s.fastValidate(start, spaced: &spaced) : -1
    let fastValid = fastEnd >= 0 && s.ws(fastEnd) == size
    let slowValid = (try? s.slowValidate()) != nil
    if fastValid != slowValid { mismatch("validity (fast \(fastValid), slow \(slowValid))", bytes) }
    if (try? s.validate()) != nil && !slowValid { mismatch("validate() accepts what the reference refuses", bytes) }
    guard slowValid, let root = try? s.root() else { return 0 }
    if root.start != start || root.end != fastEnd { mismatch("root span", bytes) }

    // 3. Compact copies, and the validator's whitespace flag.
    let want = referenceCompact(bytes, root)
    var got: [UInt8] = []
    s.appendCompact(root, to: &got)
    if got != want { mismatch("compact copy", bytes) }
    if spaced != (want.count != root.end - root.start) { mismatch("whitespace flag", bytes) }
    if !s.isWellFormed(root) { mismatch("isWellFormed of a valid root", bytes) }

    // 4. Lookups: every member of the root object (and of its object members), every element
    //    of the root array, fast against slow.
    func checkMembers(of span: JSONSpan, depth: Int) {
        guard s.kind(span) == .object else { return }
        var names: [[UInt8]] = [[], Array("a".utf8)]
        var children: [JSONSpan] = []
        do {
            try s.forEachMember(span) { name, value in
                names.append(s.decodeStringBytes(start: name.start, end: name.end))
                children.append(value)
            }
        } catch {
            mismatch("forEachMember refused a valid object", bytes)
        }
        for name in names.prefix(16) {
            let slow = outcome { () throws(JSONScanError) in try s.member(name, of: span) }
            var fast = JSONSpan(start: -1, end: -1)
            let r = name.withUnsafeBufferPointer { s.fastMember($0, of: span.start, &fast) }
            if r != slow.0 || (r == 1 && slow.1 != fast) {
                mismatch("member \(String(decoding: name, as: UTF8.self).debugDescription): fast \(r) \(fast), slow \(slow)", bytes)
            }
            var fast2 = JSONSpan(start: -1, end: -1)
            let (r2, end) = name.withUnsafeBufferPointer { s.fastMemberAndEnd($0, of: span.start, &fast2) }
            if r2 != r || (r == 1 && fast2 != fast) || end != span.end {
                mismatch("member-and-end \(String(decoding: name, as: UTF8.self).debugDescription)", bytes)
            }
        }
        if depth < 2 { for child in children.prefix(8) { checkMembers(of: child, depth: depth + 1) } }
    }
    checkMembers(of: root, depth: 0)
    if s.kind(root) == .array {
        for index in 0..<4 {
            let slow = outcome { () throws(JSONScanError) in try s.element(index, of: root) }
            var fast = JSONSpan(start: -1, end: -1)
            let r = s.fastElement(index, of: root.start, &fast)
            if r != slow.0 || (r == 1 && slow.1 != fast) { mismatch("element \(index): fast \(r), slow \(slow)", bytes) }
        }
    }
    return 0
}
