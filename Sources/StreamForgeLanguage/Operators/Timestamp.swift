// TIMESTAMP_AGE:OP,seconds, TIMESTAMP_AFTER:ms and TIMESTAMP_BEFORE:ms — tests of the record's
// timestamp (epoch milliseconds). Their parsing and their evaluation. The `timestamp:`
// envelope operation is parsed with the other envelope operations (Syntax/TransformParser.swift).

extension DSLParser {
    mutating func parseTimestampCondition(_ word: String, depth: Int) throws(DSLError) -> Condition {
        let stops = itemStops(nested: true, depth: depth)
        switch word {
        case "TIMESTAMP_AGE":
            let opTok = try readArg(stops: stops)
            let op = try compareOp(opTok)
            guard op != .eq && op != .ne else {
                throw DSLError(offset: opTok.offset, message: "TIMESTAMP_AGE compares with < <= > or >=")
            }
            guard peek() == 0x2C else { throw DSLError(offset: i, message: "expected ',' after the operator", hint: "TIMESTAMP_AGE:OP,seconds") }
            i += 1
            return .timestampAge(op, try int64(try readArg(stops: stops), what: "seconds"))
        case "TIMESTAMP_AFTER":
            return .timestampAfter(try int64(try readArg(stops: stops), what: "epoch milliseconds"))
        default:
            return .timestampBefore(try int64(try readArg(stops: stops), what: "epoch milliseconds"))
        }
    }
}

extension Condition {
    @inline(__always)
    static func timestampAge(_ op: CompareOp, _ secs: Int64, _ ctx: inout EvalContext) -> Bool {
        let age = (ctx.now - ctx.record.timestamp) / 1000
        return Condition.order(Double(age), Double(secs), op)
    }
}
