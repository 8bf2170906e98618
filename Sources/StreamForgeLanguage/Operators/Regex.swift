#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// REGEX:/path,pattern — a string value matching a PCRE2 pattern (compiled once at load, see
// Regex/PCRERegex.swift). Its parsing and its evaluation. KEY_MATCHES is in Key.swift.

extension DSLParser {
    mutating func parseRegexCondition(nested: Bool, depth: Int) throws(DSLError) -> Condition {
        let path = try pointer(try readArg(stops: itemStops(nested: true, depth: depth)))
        guard peek() == 0x2C else { throw DSLError(offset: i, message: "expected ',' between the path and the pattern", hint: "REGEX:/path,pattern") }
        i += 1
        let pat = try lastArg(nested: nested, depth: depth, regexLike: true)
        return .regex(path, try regex(pat))
    }
}

extension Condition {
    @inline(__always)
    static func regex(_ p: JSONPointer, _ re: PCRERegex, _ ctx: inout EvalContext) throws(RecordError) -> Bool {
        guard let span = try ctx.lookup(p), ctx.scanner.kind(span) == .string else { return false }
        let s = ctx.scanner
        let inner = span.start + 1, n = span.end - span.start - 2
        if memchr(s.base + inner, 0x5C, n) == nil {
            return try re.matches(UnsafeBufferPointer(start: s.base + inner, count: n))
        }
        return try s.stringBytes(span).withUnsafeBufferPointer { (b) throws(RecordError) -> Bool in try re.matches(b) }
    }
}
