// EXISTS:/path and NOT_EXISTS:/path — whether the value has something at a path (null counts).
// Their parsing and evaluation; the fast path reads them as FilterNode's exists / notExists
// (Runtime/FastFilter.swift).

extension DSLParser {
    mutating func parseExists(negated: Bool, depth: Int) throws(DSLError) -> Condition {
        let p = try pointer(try readArg(stops: itemStops(nested: true, depth: depth)), allowEmpty: true)
        return negated ? .notExists(p) : .exists(p)
    }
}

extension Condition {
    @inline(__always)
    static func exists(_ p: JSONPointer, _ ctx: inout EvalContext) throws(RecordError) -> Bool {
        try ctx.lookup(p) != nil
    }
}
