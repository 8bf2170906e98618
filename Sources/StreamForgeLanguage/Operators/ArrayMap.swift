// ARRAY_MAP:/array,/element[,outField] — each element of an array replaced by its member at
// /element (an element without it is kept whole). Its parsing and its evaluation.

extension DSLParser {
    mutating func parseArrayMap(at start: Int) throws(DSLError) -> ValueTransform {
        let args = try splitArgs(0x2C)
        guard args.count >= 2, args.count <= 3 else {
            throw DSLError(offset: start, message: "ARRAY_MAP takes 2 or 3 arguments, found \(args.count)", hint: "ARRAY_MAP:/array,/element[,outField]")
        }
        return .arrayMap(try pointer(args[0], allowEmpty: true), element: try pointer(args[1], relative: true), out: outField(args.count > 2 ? args[2] : nil))
    }
}

extension EvalContext {
    @inline(__always)
    mutating func applyArrayMap(_ p: JSONPointer, element elem: JSONPointer, out outField: [UInt8]?,
                                into out: inout [UInt8]) throws(RecordError) -> TransformOutcome {
        let s = scanner
        guard let span = try lookup(p), s.kind(span) == .array else { return .notFound }
        if outField != nil { try checkWhole() } else { _ = try checked(span) }
        var arr: [UInt8] = [0x5B]
        var n = 0
        do {
            try s.forEachElement(span) { (e: JSONSpan) throws(JSONScanError) -> Bool in
                if n > 0 { arr.append(0x2C) }
                n += 1
                // An element without the path is kept whole, as the existing tool does.
                s.appendCompact(try s.lookup(elem, in: e) ?? e, to: &arr)
                return true
            }
        } catch {
            throw malformed(error)
        }
        arr.append(0x5D)
        guard let outField else {
            out.append(contentsOf: arr)
            return .wrote
        }
        let root = try rootSpan()
        guard s.kind(root) == .object else { throw transformError("ARRAY_MAP with an output field needs an object value") }
        try writeObject(root, setting: outField, to: arr, into: &out)
        return .wrote
    }
}
