// TRY:<transform>,<fallback> — the transform, or the fallback JSON when it finds nothing or
// fails with a transform error. Its parsing and its evaluation.

extension DSLParser {
    mutating func parseTry() throws(DSLError) -> ValueTransform {
        // TRY:<transform>,<fallback>: the fallback follows the last ',' outside quotes and brackets.
        guard let comma = lastTopLevelComma() else {
            throw DSLError(offset: i, message: "TRY needs a fallback", hint: "TRY:<transform>,<fallback JSON>")
        }
        let inner = try transform(limit: comma)
        i = comma + 1
        let fb = try readRest()
        return .attempt(inner, fallback: try fallbackValue(fb))
    }

    func lastTopLevelComma() -> Int? {
        var k = i
        var depth = 0
        var quote: UInt8? = nil
        var last: Int?
        while k < end {
            let b = bytes[k]
            if let q = quote {
                if b == 0x5C { k += 2; continue }
                if b == q { quote = nil }
            } else if b == 0x27 || b == 0x22 {
                quote = b
            } else if b == 0x7B || b == 0x5B || b == 0x28 {
                depth += 1
            } else if b == 0x7D || b == 0x5D || b == 0x29 {
                depth -= 1
            } else if b == 0x2C && depth == 0 {
                last = k
            }
            k += 1
        }
        return last
    }

    /// A TRY fallback: `'text'`, `"text"`, null, true, false, a number, or any JSON.
    func fallbackValue(_ t: Token) throws(DSLError) -> JSONValue {
        if t.quoted { return .string(t.text) }
        switch t.text {
        case "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if Int64(t.text) != nil { return .number(t.text) }
        if let d = DSLParser.numberValue(t.text), let f = NumberText.format(d) { return .number(f) }
        do {
            return try JSONValue.parse(t.text)
        } catch {
            throw DSLError(offset: t.offset + error.offset, message: "invalid fallback value '\(t.text)': \(error.message)",
                           hint: "a fallback is a quoted string, a number, true, false, null or JSON")
        }
    }
}

extension EvalContext {
    mutating func applyTry(_ inner: ValueTransform, fallback: JSONValue, into out: inout [UInt8]) throws(RecordError) -> TransformOutcome {
        let mark = out.count
        let outcome: TransformOutcome
        do {
            outcome = try inner.apply(&self, into: &out)
        } catch where error.kind == .transform {
            outcome = .notFound
        }
        if case .notFound = outcome {
            out.removeSubrange(mark...)
            fallback.write(to: &out)
            return .wrote
        }
        return outcome
    }
}
