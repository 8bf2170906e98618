// Parsing value transforms (the shared argument readers and the dispatch to each operator's
// parser in Operators/<Name>.swift) and envelope operations.

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

    /// Dispatches to the operator's parser (Operators/<Name>.swift), after `WORD:`.
    mutating func keywordTransform(_ word: String, at start: Int) throws(DSLError) -> ValueTransform {
        switch word {
        case "TRY": return try parseTry()
        case "CONSTRUCT": return .construct(ConstructFields(try constructFields()))
        case "ARRAY_MAP": return try parseArrayMap(at: start)
        case "ARITHMETIC": return try parseArithmetic(at: start)
        case "HASH": return try parseHash(at: start)
        case "STRING": return try stringTransform(at: start)
        case "CACHE_PUT", "CACHE_LOOKUP": return try parseCache(word, at: start)
        default:
            throw DSLError(offset: start, message: "unknown transform '\(word)'")
        }
    }

    // MARK: - Envelope

    mutating func parseKeyTransform() throws(DSLError) -> KeyTransform {
        guard !atEnd else { throw DSLError(offset: i, message: "empty key_transform") }
        let start = i
        if let (word, len) = keywordAhead(), peek(len) == 0x3A, word == "CONSTRUCT" || word == "HASH" {
            i += len + 1
            if word == "CONSTRUCT" { return .construct(ConstructFields(try constructFields())) }
            return try parseKeyHash(at: start)
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
