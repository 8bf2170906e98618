// ARRAY_ANY:/array,/element,OP,value and ARRAY_ALL:… — a comparison (Compare.swift) applied to
// each element of an array, any or all of which must match. Their parsing and evaluation.

extension DSLParser {
    mutating func parseArrayMatch(all: Bool, nested: Bool, depth: Int) throws(DSLError) -> Condition {
        let word = all ? "ARRAY_ALL" : "ARRAY_ANY"
        let stops = itemStops(nested: true, depth: depth)
        let arr = try pointer(try readArg(stops: stops))
        guard peek() == 0x2C else { throw DSLError(offset: i, message: "expected ',' after the array path", hint: "\(word):/array,/element,OP,value") }
        i += 1
        let elemTok = try readArg(stops: stops)
        let elem = elemTok.quoted && elemTok.text.isEmpty ? JSONPointer.root : try pointer(elemTok, relative: true)
        guard peek() == 0x2C else { throw DSLError(offset: i, message: "expected ',' after the element path", hint: "\(word):/array,/element,OP,value") }
        i += 1
        let op = try compareOp(try readArg(stops: stops))
        guard peek() == 0x2C else { throw DSLError(offset: i, message: "expected ',' after the operator") }
        i += 1
        let litTok = nested ? try readArg(stops: stops) : try readArg(stops: [0x2C])
        if litTok.text.isEmpty && !litTok.quoted { throw DSLError(offset: litTok.offset, message: "missing value to compare with") }
        return .array(arr, all: all, element: elem, op, try DSLParser.comparable(op, litTok))
    }
}

extension Condition {
    @inline(__always)
    static func arrayMatch(_ p: JSONPointer, all: Bool, element elem: JSONPointer, _ op: CompareOp, _ lit: Literal,
                           _ ctx: inout EvalContext) throws(RecordError) -> Bool {
        guard let span = try ctx.lookup(p), ctx.scanner.kind(span) == .array else { return false }
        let s = ctx.scanner
        var q = s.ws(span.start + 1)
        guard q < s.count else { throw ctx.malformedValue() }
        if s[q] == 0x5D { return all }
        while true {
            var target = JSONSpan(start: q, end: q)
            let r: Int
            let e: Int
            if elem.segments.count == 1, s[q] == 0x7B {
                // One pass over the element: its member, and its end.
                (r, e) = elem.segments[0].key.withUnsafeBufferPointer { s.fastMemberAndEnd($0, of: q, &target) }
            } else {
                e = s.fastValueEnd(q)
                guard e >= 0 else { throw ctx.malformedValue() }
                target.end = e
                r = elem.segments.isEmpty ? 1 : s.fastLookup(elem, in: target, &target)
            }
            guard e >= 0 else { throw ctx.malformedValue() }
            guard r >= 0 else { throw ctx.malformedValue() }
            let m = Condition.compare(r == 1 ? target : nil, op, lit, s)
            // ALL stops at the first element that fails, ANY at the first that matches.
            if m != all { return m }
            q = s.ws(e)
            guard q < s.count else { throw ctx.malformedValue() }
            if s[q] == 0x2C {
                q = s.ws(q + 1)
            } else if s[q] == 0x5D {
                return all
            } else {
                throw ctx.malformedValue()
            }
        }
    }
}
