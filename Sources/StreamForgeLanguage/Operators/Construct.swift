// CONSTRUCT:name=/path:name2=/path2 — a new object of the named fields (a value transform, and
// a key_transform). Its payload (`ConstructFields`), its parsing and its evaluation.

/// The fields of a CONSTRUCT, with each member's `"name":` written out once at load. The
/// per-record reads go through plain memory owned by this object (no reference counting).
final class ConstructFields: @unchecked Sendable {
    let names: [String]
    let paths: [JSONPointer]
    let count: Int
    /// Index nodes of the paths.
    let nodes: UnsafeMutablePointer<Int32>
    /// `"name":` of field k: `prefixBytes[prefixStart[k] ..< prefixStart[k + 1]]`.
    let prefixStart: UnsafeMutablePointer<Int>
    let prefixBytes: UnsafeMutablePointer<UInt8>

    init(_ fields: [(name: String, path: JSONPointer)]) {
        names = fields.map(\.name)
        paths = fields.map(\.path)
        count = fields.count
        nodes = .allocate(capacity: max(1, count))
        prefixStart = .allocate(capacity: count + 1)
        var all: [UInt8] = []
        for (k, f) in fields.enumerated() {
            nodes[k] = f.path.node
            prefixStart[k] = all.count
            JSONValue.writeString(f.name, to: &all)
            all.append(0x3A)
        }
        prefixStart[count] = all.count
        prefixBytes = .allocate(capacity: max(1, all.count))
        for (k, b) in all.enumerated() { prefixBytes[k] = b }
    }

    deinit {
        nodes.deallocate()
        prefixStart.deallocate()
        prefixBytes.deallocate()
    }
}

extension DSLParser {
    mutating func constructFields() throws(DSLError) -> [(name: String, path: JSONPointer)] {
        var fields: [(name: String, path: JSONPointer)] = []
        let parts = try splitArgs(0x3A)
        for part in parts {
            guard let eq = part.text.utf8.firstIndex(of: UInt8(ascii: "=")) else {
                throw DSLError(offset: part.offset, message: "expected name=/path, found '\(part.text)'", hint: "CONSTRUCT:name=/path:name2=/path2")
            }
            // Fields may be written one per line (a YAML block scalar): the space around a
            // name and a path is not part of them.
            let rawName = part.text[..<eq]
            let name = String(rawName.trimmingASCIISpace)
            let rawPath = part.text[part.text.utf8.index(after: eq)...]
            let pathText = String(rawPath.trimmingASCIISpace)
            guard !name.isEmpty else { throw DSLError(offset: part.offset, message: "missing field name before '='") }
            let lead = rawPath.utf8.prefix { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }.count
            let pathOffset = part.offset + rawName.utf8.count + 1 + lead
            fields.append((name, try pointer(Token(text: pathText, offset: pathOffset, quoted: false))))
        }
        return fields
    }
}

extension EvalContext {
    /// Appends `{"name":value,…}` for the fields found to `out`: the first pass finds the
    /// values (and sizes them), the second copies them.
    @inline(__always)
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
