// STRING operations. "Characters" are Unicode scalars, as in the existing tool (Rust `char`);
// replacing and splitting work on exact UTF-8 byte sequences.

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
