// HEADER_EXISTS:name and HEADER:name,OP,value — tests of the record's headers (the last header
// of a name counts, as in the existing tool's map). Their parsing and their evaluation.

extension DSLParser {
    mutating func parseHeaderExists(nested: Bool, depth: Int) throws(DSLError) -> Condition {
        let t = try lastArg(nested: nested, depth: depth, regexLike: false)
        guard !t.text.isEmpty else { throw DSLError(offset: t.offset, message: "HEADER_EXISTS needs a header name") }
        return .headerExists(t.text)
    }

    mutating func parseHeaderCondition(nested: Bool, depth: Int) throws(DSLError) -> Condition {
        let stops = itemStops(nested: true, depth: depth)
        let name = try readArg(stops: stops)
        guard !name.text.isEmpty else { throw DSLError(offset: name.offset, message: "HEADER needs a header name", hint: "HEADER:name,OP,value") }
        guard peek() == 0x2C else { throw DSLError(offset: i, message: "expected ',' after the header name", hint: "HEADER:name,OP,value") }
        i += 1
        let op = try compareOp(try readArg(stops: stops))
        guard peek() == 0x2C else { throw DSLError(offset: i, message: "expected ',' after the operator") }
        i += 1
        let v = nested ? try readArg(stops: stops) : try readArg(stops: [0x2C])
        if op != .eq && op != .ne && DSLParser.numberValue(v.text) == nil {
            throw DSLError(offset: v.offset, message: "'\(op.rawValue)' orders numbers, and '\(v.text)' is not a number",
                           hint: "compare header text with == or !=")
        }
        return .header(name.text, op, v.text)
    }
}

extension EvalContext {
    /// The last header with this name (as the existing tool's map keeps it).
    func header(_ name: String) -> UnsafeRawBufferPointer?? {
        for h in record.headers.reversed() where h.name == name { return .some(h.value) }
        return .none
    }
}

extension Condition {
    @inline(__always)
    static func header(_ name: String, _ op: CompareOp, _ expected: String, _ ctx: EvalContext) -> Bool {
        guard let h = ctx.header(name) else { return op == .ne }
        let actual = h.map { String(decoding: $0, as: UTF8.self) } ?? ""
        switch op {
        case .eq: return actual == expected
        case .ne: return actual != expected
        default:
            guard let o = DecimalText.order(actual, expected) else { return false }
            return Condition.order(Double(o), 0, op)
        }
    }
}
