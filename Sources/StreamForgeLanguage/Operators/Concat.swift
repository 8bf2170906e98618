// STRING:CONCAT,outField,part1,part2,… — literal text and scalars at paths joined into one
// string member. Its payload (`ConcatPart`), its parsing and its evaluation.

enum ConcatPart: Sendable {
    case literal(String)
    case path(JSONPointer)
}

extension DSLParser {
    /// After `STRING:CONCAT,`.
    mutating func parseConcat(at start: Int) throws(DSLError) -> ValueTransform {
        let args = try splitArgs(0x2C)
        guard args.count >= 2, !args[0].text.isEmpty else {
            throw DSLError(offset: start, message: "STRING:CONCAT needs an output field and at least one part", hint: "STRING:CONCAT,outField,part1,part2")
        }
        var parts: [ConcatPart] = []
        for (n, a) in args.dropFirst().enumerated() {
            if a.text.isEmpty && !a.quoted {
                throw DSLError(offset: a.offset, message: "part \(n + 1) of CONCAT is empty", hint: "check for a doubled or trailing ','; write '' for an empty literal")
            }
            if !a.quoted && a.text.hasPrefix("/") { parts.append(.path(try pointer(a))) } else { parts.append(.literal(a.text)) }
        }
        return .concat(out: Array(args[0].text.utf8), parts: parts)
    }
}

extension EvalContext {
    @inline(__always)
    mutating func applyConcat(out outField: [UInt8], parts: [ConcatPart], into out: inout [UInt8]) throws(RecordError) -> TransformOutcome {
        let root = try rootSpan()
        guard scanner.kind(root) == .object else { return .notFound }
        var text: [UInt8] = []
        for part in parts {
            switch part {
            case .literal(let l): text.append(contentsOf: l.utf8)
            case .path(let pp):
                if let span = try lookup(pp), let t = scalarText(span) { text.append(contentsOf: t) }
            }
        }
        var quoted: [UInt8] = []
        JSONValue.writeStringBytes(text, to: &quoted)
        try writeRoot(setting: outField, to: quoted, into: &out)
        return .wrote
    }
}
