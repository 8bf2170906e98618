// STRING:UPPER|LOWER|TRIM|TRIM_START|TRIM_END|LENGTH|SUBSTRING|REPLACE|REPLACE_ALL|
// REGEX_REPLACE|SPLIT,/path,… — its payload (`StringOp`), its parsing and its evaluation
// (STRING:CONCAT is in Concat.swift). "Characters" are Unicode scalars, as in the existing tool
// (Rust `char`); replacing and splitting work on exact UTF-8 byte sequences.

enum StringOp: Sendable {
    case upper, lower, trim, trimStart, trimEnd, length
    case substring(start: Int, length: Int?)
    case replace(from: [UInt8], to: [UInt8], all: Bool)
    case regexReplace(PCRERegex, String)
    case split([UInt8])
}

extension DSLParser {
    mutating func stringTransform(at start: Int) throws(DSLError) -> ValueTransform {
        let opTok = try readArg(stops: [0x2C])
        let op = opTok.text
        guard stringOps.contains(op) else {
            let hint = closest(op, in: stringOps).map { "did you mean '\($0)'?" } ?? "one of \(stringOps.joined(separator: ", "))"
            throw DSLError(offset: opTok.offset, message: "unknown STRING operation '\(op)'", hint: hint)
        }
        guard peek() == 0x2C else {
            throw DSLError(offset: i, message: "STRING:\(op) needs arguments", hint: op == "CONCAT" ? "STRING:CONCAT,outField,part1,part2" : "STRING:\(op),/path[,outField]")
        }
        i += 1
        func need(_ args: [Token], _ n: Int, _ usage: String) throws(DSLError) {
            if args.count < n || args[0].text.isEmpty && !args[0].quoted {
                throw DSLError(offset: start, message: "STRING:\(op) is missing arguments", hint: usage)
            }
        }
        switch op {
        case "UPPER", "LOWER", "TRIM", "TRIM_START", "TRIM_END", "LENGTH":
            let args = try splitArgs(0x2C, maxParts: 2)
            try need(args, 1, "STRING:\(op),/path[,outField]")
            let sop: StringOp = op == "UPPER" ? .upper : op == "LOWER" ? .lower : op == "TRIM" ? .trim
                : op == "TRIM_START" ? .trimStart : op == "TRIM_END" ? .trimEnd : .length
            return .string(sop, try pointer(args[0]), out: outField(args.count > 1 ? args[1] : nil))
        case "SUBSTRING":
            let args = try splitArgs(0x2C, maxParts: 4)
            try need(args, 2, "STRING:SUBSTRING,/path,start[,length][,outField]")
            guard let s = Int(args[1].text), s >= 0 else {
                throw DSLError(offset: args[1].offset, message: "invalid start index '\(args[1].text)'", hint: "a non-negative integer")
            }
            var length: Int?
            var out: [UInt8]?
            if args.count > 2 {
                if let n = Int(args[2].text), n >= 0 {
                    length = n
                    out = outField(args.count > 3 ? args[3] : nil)
                } else {
                    out = outField(args[2])
                    if args.count > 3 { throw DSLError(offset: args[2].offset, message: "invalid length '\(args[2].text)'") }
                }
            }
            return .string(.substring(start: s, length: length), try pointer(args[0]), out: out)
        case "REPLACE", "REPLACE_ALL":
            let args = try splitArgs(0x2C, maxParts: 4)
            try need(args, 3, "STRING:\(op),/path,from,to[,outField]")
            guard !args[1].text.isEmpty else {
                throw DSLError(offset: args[1].offset, message: "the string to replace must not be empty")
            }
            return .string(.replace(from: Array(args[1].text.utf8), to: Array(args[2].text.utf8), all: op == "REPLACE_ALL"), try pointer(args[0]),
                           out: outField(args.count > 3 ? args[3] : nil))
        case "REGEX_REPLACE":
            let args = try splitArgs(0x2C, maxParts: 4, pattern: 1)
            try need(args, 3, "STRING:REGEX_REPLACE,/path,pattern,replacement[,outField]")
            return .string(.regexReplace(try regex(args[1]), args[2].text), try pointer(args[0]),
                           out: outField(args.count > 3 ? args[3] : nil))
        case "SPLIT":
            let args = try splitArgs(0x2C, maxParts: 3)
            try need(args, 2, "STRING:SPLIT,/path,delimiter[,outField]")
            return .string(.split(Array(args[1].text.utf8)), try pointer(args[0]), out: outField(args.count > 2 ? args[2] : nil))
        default: // CONCAT
            return try parseConcat(at: start)
        }
    }
}

extension EvalContext {
    @inline(__always)
    mutating func applyString(_ op: StringOp, _ p: JSONPointer, out outField: [UInt8]?,
                              into out: inout [UInt8]) throws(RecordError) -> TransformOutcome {
        guard let span = try lookup(p), let input = scalarText(span) else { return .notFound }
        let result = try StringOps.apply(op, input)
        let root = try rootSpan()
        if let outField {
            guard scanner.kind(root) == .object else { throw transformError("STRING: an output field needs the value to be a JSON object") }
            try writeRoot(setting: outField, to: result, into: &out)
        } else {
            try checkWhole()
            try writeReplacing(root, p.segments[...], with: result, into: &out)
        }
        return .wrote
    }
}

enum StringOps {
    /// Applies `op` to `input` (UTF-8) and returns the result as JSON text.
    static func apply(_ op: StringOp, _ input: [UInt8]) throws(RecordError) -> [UInt8] {
        var out: [UInt8] = []
        switch op {
        case .upper, .lower:
            var upper = false
            if case .upper = op { upper = true }
            if let mapped = asciiCase(input, upper: upper) {
                JSONValue.writeStringBytes(mapped, to: &out)
                return out
            }
        default: break
        }
        let s = String(decoding: input, as: UTF8.self)
        switch op {
        case .upper: JSONValue.writeString(s.uppercased(), to: &out)
        case .lower: JSONValue.writeString(s.lowercased(), to: &out)
        case .trim: JSONValue.writeString(trim(s, start: true, end: true), to: &out)
        case .trimStart: JSONValue.writeString(trim(s, start: true, end: false), to: &out)
        case .trimEnd: JSONValue.writeString(trim(s, start: false, end: true), to: &out)
        case .length: out.append(contentsOf: String(s.unicodeScalars.count).utf8)
        case .substring(let start, let length):
            let scalars = Array(s.unicodeScalars)
            // Saturating: any start and length written in a config stay inside the string.
            let from = max(0, min(start, scalars.count))
            let to = length.map { $0 <= 0 ? from : ($0 >= scalars.count - from ? scalars.count : from + $0) } ?? scalars.count
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[from..<to])
            JSONValue.writeString(String(view), to: &out)
        case .replace(let from, let to, let all):
            JSONValue.writeStringBytes(replace(input, from, to, all: all), to: &out)
        case .regexReplace(let re, let repl):
            switch re.replaceAll(s, with: repl) {
            case .success(let r): JSONValue.writeString(r, to: &out)
            case .failure(let e): throw transformError("REGEX_REPLACE: \(e.message)")
            }
        case .split(let delim):
            out.append(0x5B)
            for (i, part) in split(input, delim).enumerated() {
                if i > 0 { out.append(0x2C) }
                JSONValue.writeStringBytes(part, to: &out)
            }
            out.append(0x5D)
        }
        return out
    }

    /// UPPER/LOWER of an all-ASCII string over its bytes (the same as Swift's `uppercased()` /
    /// `lowercased()` there); nil when a byte is not ASCII, for the Unicode-aware path.
    static func asciiCase(_ input: [UInt8], upper: Bool) -> [UInt8]? {
        var out = input
        let ok = out.withUnsafeMutableBufferPointer { buf -> Bool in
            let from: UInt8 = upper ? 0x61 : 0x41
            for i in 0..<buf.count {
                let b = buf[i]
                if b >= 0x80 { return false }
                if b &- from < 26 { buf[i] = b ^ 0x20 }
            }
            return true
        }
        return ok ? out : nil
    }

    static func trim(_ s: String, start: Bool, end: Bool) -> String {
        let u = Array(s.unicodeScalars)
        var a = 0, b = u.count
        if start { while a < b, u[a].properties.isWhitespace { a += 1 } }
        if end { while b > a, u[b - 1].properties.isWhitespace { b -= 1 } }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: u[a..<b])
        return String(view)
    }

    static func replace(_ hay: [UInt8], _ from: [UInt8], _ to: [UInt8], all: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while let at = bytesFind(hay, from, from: i) {
            out.append(contentsOf: hay[i..<at])
            out.append(contentsOf: to)
            i = at + from.count
            if !all { break }
        }
        out.append(contentsOf: hay[i...])
        return out
    }

    static func split(_ hay: [UInt8], _ delim: [UInt8]) -> [[UInt8]] {
        if delim.isEmpty {
            // Like Rust's str::split(""): an empty piece at each end and one per character.
            var parts: [[UInt8]] = [[]]
            for scalar in String(decoding: hay, as: UTF8.self).unicodeScalars { parts.append(Array(String(scalar).utf8)) }
            parts.append([])
            return parts
        }
        var parts: [[UInt8]] = []
        var i = 0
        while let at = bytesFind(hay, delim, from: i) {
            parts.append(Array(hay[i..<at]))
            i = at + delim.count
        }
        parts.append(Array(hay[i...]))
        return parts
    }
}
