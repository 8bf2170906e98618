#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// HASH:ALG,/path[,outField] (a value transform) and HASH:ALG,/path (a key_transform): the
// lower-case hex digest of a value. Its parsing, its input rule and its evaluation; the hash
// functions themselves are in Hash/Hashes.swift.

extension DSLParser {
    func hashAlgorithm(_ t: Token) throws(DSLError) -> HashAlgorithm {
        guard let alg = HashAlgorithm(name: t.text) else {
            throw DSLError(offset: t.offset, message: "unknown hash algorithm '\(t.text)'", hint: "one of MD5, SHA256, SHA512, MURMUR64, MURMUR128")
        }
        return alg
    }

    mutating func parseHash(at start: Int) throws(DSLError) -> ValueTransform {
        let args = try splitArgs(0x2C)
        guard args.count >= 2 else {
            throw DSLError(offset: start, message: "HASH takes an algorithm and a path", hint: "HASH:SHA256,/path[,outField]")
        }
        guard args.count <= 3 else { throw DSLError(offset: args[3].offset - 1, message: "HASH takes at most 3 arguments") }
        let alg = try hashAlgorithm(args[0])
        return .hash(alg, try pointer(args[1]), out: outField(args.count > 2 ? args[2] : nil))
    }

    /// key_transform `HASH:ALG,/path` (after `HASH:`).
    mutating func parseKeyHash(at start: Int) throws(DSLError) -> KeyTransform {
        let args = try splitArgs(0x2C)
        guard args.count == 2 else {
            throw DSLError(offset: start, message: "key HASH takes an algorithm and a path", hint: "HASH:SHA256,/path")
        }
        let alg = try hashAlgorithm(args[0])
        return .hash(alg, try pointer(args[1]))
    }
}

extension EvalContext {
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
    @inline(__always)
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

    @inline(__always)
    mutating func applyHash(_ alg: HashAlgorithm, _ p: JSONPointer, out outField: [UInt8]?,
                            into out: inout [UInt8]) throws(RecordError) -> TransformOutcome {
        guard let span = try lookup(p) else { return .notFound }
        guard let outField else {
            // The hex digits need no JSON escaping: quoted, straight into the output.
            out.append(0x22)
            try withHashInput(span) { alg.appendHex($0, to: &out) }
            out.append(0x22)
            return .wrote
        }
        var quoted: [UInt8] = [0x22]
        try withHashInput(span) { alg.appendHex($0, to: &quoted) }
        quoted.append(0x22)
        try writeRoot(setting: outField, to: quoted, into: &out)
        return .wrote
    }

    /// key_transform HASH: the digest's hex digits appended to `key` (the input read in place,
    /// the digest on the stack: one buffer, no String).
    @inline(__always)
    mutating func hashKey(_ alg: HashAlgorithm, _ p: JSONPointer, into key: inout [UInt8]) throws(RecordError) {
        guard let span = try lookup(p) else {
            throw RecordError(kind: .keyTransform, message: "key path \(p.quoted) not found in the value")
        }
        try withHashInput(span) { alg.appendHex($0, to: &key) }
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
