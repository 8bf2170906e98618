// Parsing value transforms and envelope operations.

extension DSLParser {
    /// Splits the rest of the string at `sep` (outside quotes). With `maxParts`, the last part
    /// takes the remainder, as the existing tool's `splitn` does. The argument at `pattern` is
    /// a regular expression (its backslashes read as `.pattern`).
    mutating func splitArgs(_ sep: UInt8, maxParts: Int? = nil, pattern: Int? = nil) throws(DSLError) -> [Token] {
        var parts: [Token] = []
        if atEnd { return [Token(text: "", offset: i, quoted: false)] }
        while true {
            if let m = maxParts, parts.count == m - 1 {
                parts.append(try readRest(parts.count == pattern ? .pattern : .literal))
                return parts
            }
            parts.append(try readArg(stops: [sep], parts.count == pattern ? .pattern : .literal))
            if atEnd { return parts }
            i += 1   // the separator
            if atEnd { parts.append(Token(text: "", offset: i, quoted: false)); return parts }
        }
    }

    func outField(_ t: Token?) -> [UInt8]? {
        guard let t, !(t.text.isEmpty && !t.quoted) else { return nil }
        return Array(t.text.utf8)
    }

    mutating func parseTransform() throws(DSLError) -> ValueTransform {
        guard !atEnd else { throw DSLError(offset: i, message: "empty transform") }
        return try transform(limit: end)
    }

    /// Parses a transform occupying `[i, limit)`.
    mutating func transform(limit: Int) throws(DSLError) -> ValueTransform {
        var sub = DSLParser(sharing: self, end: limit)
        let t = try sub.transformBody()
        warnings += sub.warnings
        i = limit
        return t
    }

    init(sharing p: DSLParser, end: Int) {
        bytes = p.bytes
        i = p.i
        self.end = end
        caches = p.caches
        paths = p.paths
    }

    mutating func transformBody() throws(DSLError) -> ValueTransform {
        let start = i
        if let (word, len) = keywordAhead(), peek(len) == 0x3A {
            guard transformKeywords.contains(word) else {
                let hint = closest(word, in: transformKeywords).map { "did you mean '\($0)'?" }
                    ?? "a transform is a /path or one of \(transformKeywords.joined(separator: ", "))"
                throw DSLError(offset: start, message: "unknown transform '\(word)'", hint: hint)
            }
            i += len + 1
            return try keywordTransform(word, at: start)
        }
        let t = try readRest()
        return .path(try pointer(t))
    }

    mutating func keywordTransform(_ word: String, at start: Int) throws(DSLError) -> ValueTransform {
        switch word {
        case "TRY":
            // TRY:<transform>,<fallback>: the fallback follows the last ',' outside quotes and brackets.
            guard let comma = lastTopLevelComma() else {
                throw DSLError(offset: i, message: "TRY needs a fallback", hint: "TRY:<transform>,<fallback JSON>")
            }
            let innerStart = i
            let inner = try transform(limit: comma)
            _ = innerStart
            i = comma + 1
            let fb = try readRest()
            return .attempt(inner, fallback: try fallbackValue(fb))
        case "CONSTRUCT":
            return .construct(ConstructFields(try constructFields()))
        case "ARRAY_MAP":
            let args = try splitArgs(0x2C)
            guard args.count >= 2, args.count <= 3 else {
                throw DSLError(offset: start, message: "ARRAY_MAP takes 2 or 3 arguments, found \(args.count)", hint: "ARRAY_MAP:/array,/element[,outField]")
            }
            return .arrayMap(try pointer(args[0], allowEmpty: true), element: try pointer(args[1], relative: true), out: outField(args.count > 2 ? args[2] : nil))
        case "ARITHMETIC":
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
        case "HASH":
            let args = try splitArgs(0x2C)
            guard args.count >= 2 else {
                throw DSLError(offset: start, message: "HASH takes an algorithm and a path", hint: "HASH:SHA256,/path[,outField]")
            }
            guard args.count <= 3 else { throw DSLError(offset: args[3].offset - 1, message: "HASH takes at most 3 arguments") }
            guard let alg = HashAlgorithm(name: args[0].text) else {
                throw DSLError(offset: args[0].offset, message: "unknown hash algorithm '\(args[0].text)'", hint: "one of MD5, SHA256, SHA512, MURMUR64, MURMUR128")
            }
            return .hash(alg, try pointer(args[1]), out: outField(args.count > 2 ? args[2] : nil))
        case "STRING":
            return try stringTransform(at: start)
        case "CACHE_PUT", "CACHE_LOOKUP":
            let args = try splitArgs(0x2C, maxParts: 3)
            let usage = word == "CACHE_PUT" ? "CACHE_PUT:/keyPath,store[,/valuePath]" : "CACHE_LOOKUP:/keyPath,store,outField|MERGE"
            guard args.count >= (word == "CACHE_PUT" ? 2 : 3) else {
                throw DSLError(offset: start, message: "\(word) is missing arguments", hint: usage)
            }
            guard !args[1].text.isEmpty else { throw DSLError(offset: args[1].offset, message: "missing store name", hint: usage) }
            let registry = caches ?? CacheRegistry()
            let store = registry.store(named: args[1].text)
            if word == "CACHE_PUT" {
                let v = args.count > 2 && !args[2].text.isEmpty ? try pointer(args[2]) : nil
                return .cachePut(key: try pointer(args[0]), store: store, value: v)
            }
            guard !args[2].text.isEmpty else { throw DSLError(offset: args[2].offset, message: "missing output field (or MERGE)", hint: usage) }
            return .cacheLookup(key: try pointer(args[0]), store: store, out: args[2].text == "MERGE" ? nil : Array(args[2].text.utf8))
        default:
            throw DSLError(offset: start, message: "unknown transform '\(word)'")
        }
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

    mutating func constructFields() throws(DSLError) -> [(name: String, path: JSONPointer)] {
        var fields: [(name: String, path: JSONPointer)] = []
        let parts = try splitArgs(0x3A)
        for part in parts {
            guard let eq = part.text.utf8.firstIndex(of: UInt8(ascii: "=")) else {
                throw DSLError(offset: part.offset, message: "expected name=/path, found '\(part.text)'", hint: "CONSTRUCT:name=/path:name2=/path2")
            }
            // Fields may be written one per line (a YAML block scalar): the space around a
            // name and a path is not part of them.
            let rawName = part.text[..<eq]
            let name = String(rawName.trimmingASCIISpace)
            let rawPath = part.text[part.text.utf8.index(after: eq)...]
            let pathText = String(rawPath.trimmingASCIISpace)
            guard !name.isEmpty else { throw DSLError(offset: part.offset, message: "missing field name before '='") }
            let lead = rawPath.utf8.prefix { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }.count
            let pathOffset = part.offset + rawName.utf8.count + 1 + lead
            fields.append((name, try pointer(Token(text: pathText, offset: pathOffset, quoted: false))))
        }
        return fields
    }

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
            let args = try splitArgs(0x2C)
            guard args.count >= 2, !args[0].text.isEmpty else {
                throw DSLError(offset: start, message: "STRING:CONCAT needs an output field and at least one part", hint: "STRING:CONCAT,outField,part1,part2")
            }
            var parts: [ConcatPart] = []
            for (n, a) in args.dropFirst().enumerated() {
                if a.text.isEmpty && !a.quoted {
                    throw DSLError(offset: a.offset, message: "part \(n + 1) of CONCAT is empty", hint: "check for a doubled or trailing ','; write '' for an empty literal")
                }
                if !a.quoted && a.text.hasPrefix("/") { parts.append(.path(try pointer(a))) } else { parts.append(.literal(a.text)) }
            }
            return .concat(out: Array(args[0].text.utf8), parts: parts)
        }
    }

    // MARK: - Envelope

    mutating func parseKeyTransform() throws(DSLError) -> KeyTransform {
        guard !atEnd else { throw DSLError(offset: i, message: "empty key_transform") }
        let start = i
        if let (word, len) = keywordAhead(), peek(len) == 0x3A, word == "CONSTRUCT" || word == "HASH" {
            i += len + 1
            if word == "CONSTRUCT" { return .construct(ConstructFields(try constructFields())) }
            let args = try splitArgs(0x2C)
            guard args.count == 2 else {
                throw DSLError(offset: start, message: "key HASH takes an algorithm and a path", hint: "HASH:SHA256,/path")
            }
            guard let alg = HashAlgorithm(name: args[0].text) else {
                throw DSLError(offset: args[0].offset, message: "unknown hash algorithm '\(args[0].text)'", hint: "one of MD5, SHA256, SHA512, MURMUR64, MURMUR128")
            }
            return .hash(alg, try pointer(args[1]))
        }
        let whole = text(i, end)
        if whole.hasPrefix("/") {
            let t = try readRest()
            return .path(try pointer(t))
        }
        if whole.contains("{/") { return .template(try templateParts()) }
        i = end
        return .constant(Array(whole.utf8))
    }

    /// `user-{/user/id}`: literal text with `{/pointer}` placeholders.
    mutating func templateParts() throws(DSLError) -> [TemplatePart] {
        var parts: [TemplatePart] = []
        var lit: [UInt8] = []
        while i < end {
            if bytes[i] == 0x7B, i + 1 < end, bytes[i + 1] == 0x2F {
                guard let close = bytes[i..<end].firstIndex(of: 0x7D), close > i + 1 else {
                    throw DSLError(offset: i, message: "unclosed '{' in key template")
                }
                if !lit.isEmpty { parts.append(.literal(String(decoding: lit, as: UTF8.self))); lit = [] }
                parts.append(.path(try pointer(Token(text: text(i + 1, close), offset: i + 1, quoted: false))))
                i = close + 1
            } else {
                lit.append(bytes[i])
                i += 1
            }
        }
        if !lit.isEmpty { parts.append(.literal(String(decoding: lit, as: UTF8.self))) }
        return parts
    }

    mutating func parseHeaderOperation() throws(DSLError) -> HeaderOperation {
        let start = i
        let whole = text(i, end)
        if whole == "REMOVE" { i = end; return .remove }
        if whole.hasPrefix("FROM:") {
            i += 5
            return .from(try pointer(try readRest(), allowEmpty: true))
        }
        if whole.hasPrefix("COPY:") {
            i += 5
            let t = try readRest()
            guard !t.text.isEmpty else { throw DSLError(offset: t.offset, message: "COPY needs a header name") }
            return .copy(t.text)
        }
        throw DSLError(offset: start, message: "unknown header operation '\(whole)'", hint: "one of FROM:/path, COPY:header, REMOVE")
    }

    mutating func parseTimestamp() throws(DSLError) -> TimestampTransform {
        let start = i
        let whole = text(i, end)
        let upper = whole.uppercased()
        if upper == "PRESERVE" { i = end; return .preserve }
        if upper == "CURRENT" { i = end; return .current }
        if upper.hasPrefix("FROM:") {
            i += 5
            return .from(try pointer(try readRest(), allowEmpty: true))
        }
        for (prefix, sign) in [("ADD:", Int64(1)), ("SUBTRACT:", Int64(-1))] where upper.hasPrefix(prefix) {
            i += prefix.utf8.count
            let secs = try int64(try readRest(), what: "seconds")
            let (ms, overflow) = secs.multipliedReportingOverflow(by: 1000 * sign)
            guard !overflow else { throw DSLError(offset: start + prefix.utf8.count, message: "too many seconds") }
            return .add(ms)
        }
        throw DSLError(offset: start, message: "unknown timestamp operation '\(whole)'", hint: "one of PRESERVE, CURRENT, FROM:/path, ADD:seconds, SUBTRACT:seconds")
    }
}

extension Substring {
    /// Without the spaces, tabs and line breaks at either end.
    var trimmingASCIISpace: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        var s = self
        while let f = s.first, isSpace(f) { s = s.dropFirst() }
        while let l = s.last, isSpace(l) { s = s.dropLast() }
        return s
    }
}
