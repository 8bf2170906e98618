#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// KEY_EXISTS, KEY_PREFIX:text, KEY_SUFFIX:text, KEY_CONTAINS:text, KEY_MATCHES:pattern — tests of
// the record's key (read as text: see `withKeyText`). Their parsing (KEY_EXISTS, which takes no
// argument, is recognised by `condition` in Syntax/Parser.swift) and their evaluation.

extension DSLParser {
    mutating func parseKeyCondition(_ word: String, nested: Bool, depth: Int) throws(DSLError) -> Condition {
        if word == "KEY_MATCHES" {
            return .keyMatches(try regex(try lastArg(nested: nested, depth: depth, regexLike: true)))
        }
        let t = try lastArg(nested: nested, depth: depth, regexLike: false)
        let v = Array(t.text.utf8)
        return word == "KEY_PREFIX" ? .keyPrefix(v) : word == "KEY_SUFFIX" ? .keySuffix(v) : .keyContains(v)
    }
}

extension EvalContext {
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
}

extension Condition {
    @inline(__always)
    static func keyPrefix(_ v: [UInt8], _ ctx: EvalContext) -> Bool {
        ctx.withKeyText { k in k.starts(with: v) } ?? false
    }

    @inline(__always)
    static func keySuffix(_ v: [UInt8], _ ctx: EvalContext) -> Bool {
        ctx.withKeyText { k in k.count >= v.count && UnsafeBufferPointer(rebasing: k[(k.count - v.count)...]).elementsEqual(v) } ?? false
    }

    @inline(__always)
    static func keyContains(_ v: [UInt8], _ ctx: EvalContext) -> Bool {
        ctx.withKeyText { k in v.isEmpty || bytesFind(k, v, from: 0) != nil } ?? false
    }

    @inline(__always)
    static func keyMatches(_ re: PCRERegex, _ ctx: EvalContext) throws(RecordError) -> Bool {
        let outcome = ctx.withKeyText { k in Result { () throws(RecordError) -> Bool in try re.matches(k) } }
        return try outcome?.get() ?? false
    }
}
