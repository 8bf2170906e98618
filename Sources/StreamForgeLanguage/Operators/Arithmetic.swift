// ARITHMETIC:ADD|SUB|MUL|DIV,/left,/right-or-number — its payload, its parsing and its
// evaluation (integers stay exact where they can; otherwise f64, printed as the existing tool
// prints one).

public enum ArithmeticOp: String, Sendable { case add = "ADD", sub = "SUB", mul = "MUL", div = "DIV" }

enum ArithmeticOperand: Sendable {
    case path(JSONPointer)
    case constant(Double, text: String)
}

extension DSLParser {
    mutating func parseArithmetic(at start: Int) throws(DSLError) -> ValueTransform {
        let args = try splitArgs(0x2C)
        guard args.count == 3 else {
            throw DSLError(offset: start, message: "ARITHMETIC takes 3 arguments, found \(args.count)", hint: "ARITHMETIC:ADD|SUB|MUL|DIV,/left,/right-or-number")
        }
        guard let op = ArithmeticOp(rawValue: args[0].text) else {
            throw DSLError(offset: args[0].offset, message: "unknown arithmetic operation '\(args[0].text)'", hint: "one of ADD, SUB, MUL, DIV")
        }
        let right: ArithmeticOperand
        if let d = DSLParser.numberValue(args[2].text), !args[2].quoted {
            right = .constant(d, text: args[2].text)
        } else {
            right = .path(try pointer(args[2]))
        }
        return .arithmetic(op, try pointer(args[1]), right)
    }
}

extension EvalContext {
    @inline(__always)
    mutating func applyArithmetic(_ op: ArithmeticOp, _ leftPath: JSONPointer, _ right: ArithmeticOperand,
                                  into out: inout [UInt8]) throws(RecordError) -> TransformOutcome {
        let s = scanner
        guard let l = try lookup(leftPath), s.kind(l) == .number else {
            throw transformError("ARITHMETIC: left operand \(leftPath.quoted) not found or not a number")
        }
        let leftText = s.text(l)
        let rightText: String
        switch right {
        case .constant(_, let text): rightText = text
        case .path(let rp):
            guard let r = try lookup(rp), s.kind(r) == .number else {
                throw transformError("ARITHMETIC: right operand \(rp.quoted) not found or not a number")
            }
            rightText = s.text(r)
        }
        out.append(contentsOf: try Arithmetic.compute(op, leftText, rightText).utf8)
        return .wrote
    }
}

enum Arithmetic {
    static func isInteger(_ t: String) -> Int64? {
        guard !t.utf8.contains(where: { $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }) else { return nil }
        return Int64(t)
    }

    /// `left OP right` on number texts: integers stay integers where the result is exact;
    /// otherwise an f64, printed as the existing tool prints one (`80.0`).
    static func compute(_ op: ArithmeticOp, _ left: String, _ right: String) throws(RecordError) -> String {
        if let a = isInteger(left), let b = isInteger(right) {
            switch op {
            case .add:
                let (r, o) = a.addingReportingOverflow(b)
                if !o { return String(r) }
            case .sub:
                let (r, o) = a.subtractingReportingOverflow(b)
                if !o { return String(r) }
            case .mul:
                let (r, o) = a.multipliedReportingOverflow(by: b)
                if !o { return String(r) }
            case .div:
                if b == 0 { throw transformError("ARITHMETIC: division by zero") }
                if b != -1 || a != .min, a % b == 0 { return String(a / b) }
            }
        }
        guard let x = Double(left), let y = Double(right) else { throw transformError("ARITHMETIC: operands are not numbers") }
        let r: Double
        switch op {
        case .add: r = x + y
        case .sub: r = x - y
        case .mul: r = x * y
        case .div:
            if y == 0 { throw transformError("ARITHMETIC: division by zero") }
            r = x / y
        }
        guard let text = NumberText.format(r) else { throw transformError("ARITHMETIC: the result is not a finite number") }
        return text
    }
}
