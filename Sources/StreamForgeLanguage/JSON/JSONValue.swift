// An owned JSON value, for literals in the language, cached values and dry-run input.
// Numbers keep their text; objects keep member order and duplicates.

public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number exactly as written.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x == y
        default: return false
        }
    }

    /// Parses JSON text completely.
    public static func parse(_ bytes: [UInt8]) throws(JSONScanError) -> JSONValue {
        var result: Result<JSONValue, JSONScanError> = .success(.null)
        bytes.withUnsafeBytes { raw in
            let s = JSONScanner(raw)
            do throws(JSONScanError) {
                try s.validate()
                let root = try s.root()
                result = .success(try JSONValue(scanner: s, span: root))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONScanError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Materialises the value at `span`.
    public init(scanner s: JSONScanner, span: JSONSpan) throws(JSONScanError) {
        switch s.kind(span) {
        case .null: self = .null
        case .bool: self = .bool(s[span.start] == 0x74)
        case .number: self = .number(s.text(span))
        case .string: self = .string(s.string(span))
        case .array:
            var items: [JSONValue] = []
            try s.forEachElement(span) { (e: JSONSpan) throws(JSONScanError) -> Bool in
                items.append(try JSONValue(scanner: s, span: e))
                return true
            }
            self = .array(items)
        case .object:
            var members: [JSONMember] = []
            try s.forEachMember(span) { (name: JSONSpan, value: JSONSpan) throws(JSONScanError) in
                let key = String(decoding: s.decodeStringBytes(start: name.start, end: name.end), as: UTF8.self)
                members.append(JSONMember(key: key, value: try JSONValue(scanner: s, span: value)))
            }
            self = .object(members)
        }
    }

    /// Compact JSON text. With `sortKeys`, object members are written in key order (the form the
    /// existing tool hashes).
    public func serialized(sortKeys: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        write(to: &out, sortKeys: sortKeys)
        return out
    }

    public var jsonText: String { String(decoding: serialized(), as: UTF8.self) }

    public func write(to out: inout [UInt8], sortKeys: Bool = false) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let t): out.append(contentsOf: t.utf8)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, v) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(to: &out, sortKeys: sortKeys)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            var list = members
            if sortKeys {
                // Last duplicate wins, as in a map; then byte order of the keys.
                var seen: [String: Int] = [:]
                var dedup: [JSONMember] = []
                for m in members {
                    if let at = seen[m.key] { dedup[at] = m } else { seen[m.key] = dedup.count; dedup.append(m) }
                }
                list = dedup.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            }
            for (i, m) in list.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(m.key, to: &out)
                out.append(UInt8(ascii: ":"))
                m.value.write(to: &out, sortKeys: sortKeys)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes `s` as a JSON string, escaping as serde_json does (quote, backslash, control
    /// characters; everything else literal UTF-8).
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { writeStringBody($0, to: &out) }
        out.append(0x22)
    }

    public static func writeStringBytes(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(0x22)
        bytes.withUnsafeBufferPointer { writeStringBody($0, to: &out) }
        out.append(0x22)
    }

    static func writeStringBody(_ u: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var runStart = 0
        for i in 0..<u.count {
            let b = u[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C { continue }
            if i > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<i])) }
            runStart = i + 1
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            default:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(b >> 4)], hexDigits[Int(b & 15)]])
            }
        }
        if u.count > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count])) }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.last(where: { $0.key == key })?.value }
        return nil
    }
}

public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue
    public init(key: String, value: JSONValue) { self.key = key; self.value = value }
}

/// Number formatting shared by arithmetic and hashing: the shortest text that reads back as the
/// same Double, written the way serde_json writes an f64 (`80.0`, `1e+16`, `1.5e-7`).
package enum NumberText {
    /// `d` as the existing tool prints an f64 (serde_json): the shortest text that reads back
    /// as `d`; plain when the decimal exponent is -5…15 (`100.0`, `0.000025`), else
    /// `d.ddde+NN` / `d.ddde-NN` (`1e+16`, `1.5e-7`). nil for infinities and NaN.
    package static func format(_ d: Double) -> String? {
        guard d.isFinite else { return nil }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description has the same shortest round-trip digits; only the layout differs
        // ("80.0", "1e+16", "1e-05", "5e-324").
        var text = Substring(d.description)
        let negative = text.first == "-"
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let point = text.firstIndex(of: ".")
        let whole = point.map { text[..<$0] } ?? text
        let fraction = point.map { text[text.index(after: $0)...] } ?? ""
        var digits = Array((whole + fraction).utf8)
        // The value is 0.digits × 10^pointAt.
        var pointAt = whole.count + exponent
        while digits.count > 1 && digits.first == 0x30 { digits.removeFirst(); pointAt -= 1 }
        while digits.count > 1 && digits.last == 0x30 { digits.removeLast() }
        let n = digits.count, e10 = pointAt - 1
        var out = negative ? "-" : ""
        let all = String(decoding: digits, as: UTF8.self)
        if e10 >= -5 && e10 <= 15 {
            if n - 1 <= e10 {
                out += all + String(repeating: "0", count: e10 + 1 - n) + ".0"
            } else if e10 >= 0 {
                out += String(all.prefix(e10 + 1)) + "." + String(all.dropFirst(e10 + 1))
            } else {
                out += "0." + String(repeating: "0", count: -e10 - 1) + all
            }
        } else {
            out += String(all.prefix(1)) + (n > 1 ? "." + String(all.dropFirst()) : "") + "e" + (e10 >= 0 ? "+" : "-") + String(abs(e10))
        }
        return out
    }

    /// A number's text as the existing tool prints it after reading it: integers that fit in
    /// 64 bits (signed, or unsigned when positive) unchanged, every other number as its f64.
    static func normalized(_ text: String) -> String {
        // serde_json reads `-0` as the f64 -0.0.
        if text == "-0" { return "-0.0" }
        if !text.isEmpty, text.allSatisfy({ $0 == "-" || $0.isASCII && $0.isNumber }), Int64(text) != nil || UInt64(text) != nil {
            return text
        }
        if let d = Double(text), let f = format(d) { return f }
        return text
    }
}
