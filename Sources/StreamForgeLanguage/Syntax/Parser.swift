// The parser of the colon/comma language: filters, value transforms and envelope operations.
//
// Grammar (filters):
//   cond    := '(' cond ')' | KEYWORD ':' args | compare
//   AND/OR  := ('AND'|'OR') ':' cond (':' cond)*        NOT := 'NOT' ':' cond
//   compare := path ',' op ',' literal
// A literal or argument in quotes ('..' or "..") may contain `,` `:` `(` `)`. Backslashes in
// quotes are read by context: in a literal `\` escapes the next character (`\n` `\t` `\r` are
// line feed, tab, carriage return); in a regular expression only `\\` and a backslash before the
// quote are escapes, and any other backslash reaches PCRE2 as written (`'\d{3}'` is `\d{3}`).
// Compatibility with the existing tool: at the top level (outside AND/OR/NOT and parentheses)
// the last argument of REGEX, KEY_* and HEADER_EXISTS runs to the end of the string, and an
// unparenthesised OR inside AND ends before a following AND/OR/NOT, as that tool reads them; so
// does an AND inside an OR (`OR:AND:a:b:AND:c:d` = (a AND b) OR (c AND d), as its guides mean).

/// A problem in one language string. `offset` counts UTF-8 bytes from the start of the string.
public struct DSLError: Error, Sendable, Equatable {
    public var offset: Int
    public var message: String
    public var hint: String?

    public init(offset: Int, message: String, hint: String? = nil) {
        self.offset = offset
        self.message = message
        self.hint = hint
    }

    /// 1-based column (in characters) of the problem inside `source`.
    public func column(in source: String) -> Int {
        let bytes = Array(source.utf8)
        let upTo = min(max(offset, 0), bytes.count)
        return String(decoding: bytes[0..<upTo], as: UTF8.self).count + 1
    }

    /// The source line and a caret under the problem.
    public func caret(in source: String) -> String {
        let line = source.replacingTabsAndNewlines()
        return line + "\n" + String(repeating: " ", count: column(in: source) - 1) + "^"
    }
}

/// A load-time warning inside one language string: the same shape as an error (the string
/// still compiles).
public typealias DSLWarning = DSLError

/// How the backslashes of a quoted argument are read.
enum QuotedReading {
    /// A literal: `\` escapes the next character; `\n`, `\t`, `\r` are control characters.
    case literal
    /// A regular expression: `\\` and a backslash before the quote character are escapes; any
    /// other backslash is kept, so the pattern reaches PCRE2 as written.
    case pattern
}

extension String {
    fileprivate func replacingTabsAndNewlines() -> String {
        String(self.map { $0 == "\n" || $0 == "\t" || $0 == "\r" ? " " : $0 })
    }
}

let filterKeywords = ["AND", "OR", "NOT", "REGEX", "ARRAY_ANY", "ARRAY_ALL", "EXISTS", "NOT_EXISTS",
                      "KEY_EXISTS", "KEY_PREFIX", "KEY_SUFFIX", "KEY_CONTAINS", "KEY_MATCHES",
                      "HEADER_EXISTS", "HEADER", "TIMESTAMP_AGE", "TIMESTAMP_AFTER", "TIMESTAMP_BEFORE"]
let transformKeywords = ["TRY", "CONSTRUCT", "ARRAY_MAP", "ARITHMETIC", "HASH", "STRING", "CACHE_PUT", "CACHE_LOOKUP"]
let stringOps = ["UPPER", "LOWER", "TRIM", "TRIM_START", "TRIM_END", "LENGTH", "SUBSTRING", "REPLACE",
                 "REPLACE_ALL", "REGEX_REPLACE", "SPLIT", "CONCAT"]

/// The closest candidate by edit distance, for "did you mean" hints.
func closest(_ word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
    let w = Array(word.uppercased())
    let best = candidates.map { ($0, distance(w, Array($0))) }.min { $0.1 < $1.1 }
    guard let best, best.1 <= max(2, w.count / 3) else { return nil }
    return best.0
}

package struct DSLParser {
    let bytes: [UInt8]
    var i: Int
    let end: Int
    let caches: CacheRegistry?
    /// Numbers the paths read from the record's root (a pipeline's path index).
    let paths: PathRegistry?
    /// What compiles but may not mean what the writer meant, in string order.
    var warnings: [DSLWarning] = []

    init(_ source: String, caches: CacheRegistry? = nil, paths: PathRegistry? = nil) {
        bytes = Array(source.utf8)
        var s = 0, e = bytes.count
        while s < e, DSLParser.isSpace(bytes[s]) { s += 1 }
        while e > s, DSLParser.isSpace(bytes[e - 1]) { e -= 1 }
        i = s
        end = e
        self.caches = caches
        self.paths = paths
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    var atEnd: Bool { i >= end }
    func peek(_ k: Int = 0) -> UInt8? { i + k < end ? bytes[i + k] : nil }
    func text(_ s: Int, _ e: Int) -> String { String(decoding: bytes[s..<e], as: UTF8.self) }
    func describe(_ b: UInt8?) -> String {
        guard let b else { return "end of string" }
        return "'" + String(decoding: [b], as: UTF8.self) + "'"
    }

    // MARK: - Lexical pieces

    struct Token {
        var text: String
        var offset: Int
        var quoted: Bool
        /// A quoted pattern whose backslashes the literal reading (used for patterns before
        /// backslashes were read by context) takes differently: that reading's text and the
        /// offset of the first backslash it changes.
        var literalReading: (text: String, offset: Int)? = nil
        /// For a quoted pattern: the offset in the source of each byte of `text`, so that
        /// PCRE2's error offsets point into the string as written.
        var sourceOffsets: [Int]? = nil
    }

    /// Reads a quoted string at `i` (`'..'` or `".."`); `reading` says what its backslashes do.
    mutating func readQuoted(_ reading: QuotedReading = .literal) throws(DSLError) -> Token {
        let q = bytes[i]
        let start = i
        i += 1
        var out: [UInt8] = []
        // For a pattern: the literal reading too, to tell where it would differ.
        var literal: [UInt8] = []
        var firstChange: Int?
        var offsets: [Int] = []
        while i < end {
            let b = bytes[i]
            if b == 0x5C, i + 1 < end {
                let n = bytes[i + 1]
                let escaped: UInt8
                switch n {
                case UInt8(ascii: "n"): escaped = 0x0A
                case UInt8(ascii: "t"): escaped = 0x09
                case UInt8(ascii: "r"): escaped = 0x0D
                default: escaped = n
                }
                if reading == .pattern && n != q && n != 0x5C {
                    out.append(b)
                    out.append(n)
                    offsets += [i, i + 1]
                    literal.append(escaped)
                    if firstChange == nil && !DSLParser.samePatternEither(n) { firstChange = i }
                } else {
                    out.append(escaped)
                    literal.append(escaped)
                    offsets.append(i + 1)
                }
                i += 2
                continue
            }
            if b == q {
                i += 1
                var t = Token(text: String(decoding: out, as: UTF8.self), offset: start, quoted: true)
                if let firstChange { t.literalReading = (String(decoding: literal, as: UTF8.self), firstChange) }
                if reading == .pattern { t.sourceOffsets = offsets + [i - 1] }
                return t
            }
            out.append(b)
            literal.append(b)
            offsets.append(i)
            i += 1
        }
        throw DSLError(offset: start, message: "unterminated quoted string", hint: "close it with \(String(decoding: [q], as: UTF8.self))")
    }

    /// True when PCRE2 reads `\c` as the literal reading's character: `\n` `\t` `\r` (control
    /// characters either way) and punctuation that is not a metacharacter in or out of a class
    /// (`\/` `\:` `\,` `\@` …, or any non-ASCII character).
    static func samePatternEither(_ c: UInt8) -> Bool {
        if c == UInt8(ascii: "n") || c == UInt8(ascii: "t") || c == UInt8(ascii: "r") { return true }
        if c >= 0x80 { return true }
        let isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
        if isAlnum { return false }
        return !Array(".^$|?*+()[]{}-#".utf8).contains(c) && c > 0x20
    }

    /// Reads one argument: quoted, or raw up to one of `stops` (not consumed).
    mutating func readArg(stops: [UInt8], _ reading: QuotedReading = .literal) throws(DSLError) -> Token {
        if let b = peek(), b == 0x27 || b == 0x22 {
            let start = i
            let t = try readQuoted(reading)
            if let n = peek(), !stops.contains(n) {
                throw DSLError(offset: i, message: "unexpected \(describe(n)) after the quoted string that starts at column \(start + 1)")
            }
            return t
        }
        let start = i
        while i < end, !stops.contains(bytes[i]) { i += 1 }
        return Token(text: text(start, i), offset: start, quoted: false)
    }

    /// Reads the rest of the string as one raw argument (or one quoted string).
    mutating func readRest(_ reading: QuotedReading = .literal) throws(DSLError) -> Token {
        if let b = peek(), b == 0x27 || b == 0x22 {
            let save = i
            if let t = try? readQuoted(reading), atEnd { return t }
            i = save
        }
        let start = i
        i = end
        return Token(text: text(start, end), offset: start, quoted: false)
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(DSLError) {
        guard let b = peek(), b == c else {
            throw DSLError(offset: i, message: "expected \(what), found \(describe(peek()))")
        }
        i += 1
    }

    /// An identifier of capitals and underscores directly followed by ':' (a keyword), if any.
    func keywordAhead() -> (word: String, length: Int)? {
        var k = i
        while k < end, (bytes[k] >= 0x41 && bytes[k] <= 0x5A) || bytes[k] == 0x5F || (k > i && bytes[k] >= 0x30 && bytes[k] <= 0x39) { k += 1 }
        guard k > i else { return nil }
        let word = text(i, k)
        if k == end || bytes[k] == 0x3A || bytes[k] == 0x29 { return (word, k - i) }
        return nil
    }

    /// A path; `relative` for one read inside each element of an array (not from the root).
    func pointer(_ t: Token, allowEmpty: Bool = true, relative: Bool = false) throws(DSLError) -> JSONPointer {
        var s = t.text
        var shift = 0
        if !s.isEmpty && !s.hasPrefix("/") {
            // The existing tool reads `user/id` as `/user/id`; but text that reads as a script,
            // a function call or a nested transform is not taken for a member name.
            if !t.quoted && DSLParser.looksLikeCode(s) {
                let shown = s.count > 40 ? String(s.prefix(40)) + "…" : s
                throw DSLError(offset: t.offset, message: "'\(shown)' is not a path",
                               hint: "a path starts with '/'; scripts, function calls and transforms nested here are not supported")
            }
            s = "/" + s
            shift = -1
        }
        if s.isEmpty && !allowEmpty {
            throw DSLError(offset: t.offset, message: "expected a path such as /field")
        }
        switch JSONPointer.parse(s) {
        case .success(let p):
            if !relative, let paths { return paths.intern(p) }
            return p
        case .failure(let e): throw DSLError(offset: t.offset + e.offset + shift + (t.quoted ? 1 : 0), message: e.message)
        }
    }

    /// Unslashed text with brackets, braces, `#`, `;`, a line break, ` + `, or a leading
    /// `WORD:` (an upper-case keyword such as `CONSTRUCT:`).
    static func looksLikeCode(_ s: String) -> Bool {
        if s.contains(where: { "(){}#;\n".contains($0) }) || s.contains(" + ") { return true }
        guard let colon = s.firstIndex(of: ":") else { return false }
        let word = s[..<colon]
        return !word.isEmpty && word.allSatisfy { ($0 >= "A" && $0 <= "Z") || $0 == "_" || ($0 >= "0" && $0 <= "9") }
    }

    /// A decimal number as the existing tool reads one (`12`, `-3.5`, `+7`, `.5`, `1e3`).
    static func numberValue(_ s: String) -> Double? {
        guard let first = s.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
                || (first >= 0x30 && first <= 0x39) else { return nil }
        guard s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B || $0 == 0x65 || $0 == 0x45 }) else { return nil }
        guard s.utf8.contains(where: { $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Double(s)
    }

    func int64(_ t: Token, what: String) throws(DSLError) -> Int64 {
        let s = t.text.hasPrefix("+") ? String(t.text.dropFirst()) : t.text
        guard let v = Int64(s) else {
            throw DSLError(offset: t.offset, message: "expected \(what) (an integer), found '\(t.text)'")
        }
        return v
    }

    /// Compiles a pattern read with `.pattern`. A quoted pattern that the literal reading of
    /// backslashes would have changed compiles as written, with a warning at the first
    /// backslash concerned: files written when quotes read every backslash as an escape now
    /// match differently there.
    mutating func regex(_ t: Token) throws(DSLError) -> PCRERegex {
        let compiled: PCRERegex
        do {
            compiled = try PCRERegex(t.text)
        } catch {
            let hint = t.literalReading.map { _ in
                "in quotes, a backslash reaches PCRE2 as written; only \\\\ and a backslash before the quote are escapes"
            }
            let at = t.sourceOffsets.map { $0[min(max(error.offset, 0), $0.count - 1)] } ?? t.offset + (t.quoted ? 1 : 0) + error.offset
            throw DSLError(offset: at, message: "invalid regular expression: \(error.message)", hint: hint)
        }
        if let (old, at) = t.literalReading {
            let escape = String(decoding: bytes[at..<min(at + 2, end)], as: UTF8.self)
            warnings.append(DSLWarning(
                offset: at,
                message: "'\(escape)' in a quoted pattern now reaches PCRE2 as written ('\(t.text)'); earlier versions read it as an escape ('\(old)')",
                hint: "double the backslash ('\\\(escape)') to keep this meaning without a warning, or remove it for the old one"))
        }
        return compiled
    }

    // MARK: - Filters

    mutating func parseFilter() throws(DSLError) -> Condition {
        guard !atEnd else { throw DSLError(offset: i, message: "empty filter") }
        let c = try condition(nested: false, depth: 0, parent: nil)
        if !atEnd {
            let hint: String? = bytes[i] == 0x2C ? "quote a literal that contains ','" :
                bytes[i] == 0x3A ? "combine conditions with AND:…, OR:… or NOT:…" : nil
            throw DSLError(offset: i, message: "unexpected \(describe(bytes[i]))", hint: hint)
        }
        return c
    }

    /// Characters that end one argument of a nested condition.
    func itemStops(nested: Bool, depth: Int) -> [UInt8] {
        var s: [UInt8] = [0x2C]
        if nested { s.append(0x3A) }
        if depth > 0 { s.append(0x29) }
        return s
    }

    mutating func condition(nested: Bool, depth: Int, parent: String?) throws(DSLError) -> Condition {
        guard let b = peek() else { throw DSLError(offset: i, message: "expected a condition, found end of string") }
        if b == 0x28 {
            let open = i
            i += 1
            let c = try condition(nested: true, depth: depth + 1, parent: nil)
            guard peek() == 0x29 else {
                if atEnd { throw DSLError(offset: open, message: "unbalanced '(': no matching ')'") }
                throw DSLError(offset: i, message: "expected ')', found \(describe(peek()))")
            }
            i += 1
            return c
        }
        if let (word, len) = keywordAhead() {
            let kwStart = i
            if filterKeywords.contains(word) {
                i += len
                if word == "KEY_EXISTS" {
                    if peek() == 0x3A && !nested { throw DSLError(offset: i, message: "KEY_EXISTS takes no argument") }
                    return .keyExists
                }
                guard peek() == 0x3A else { throw DSLError(offset: i, message: "expected ':' after \(word)") }
                i += 1
                return try keywordCondition(word, at: kwStart, nested: nested, depth: depth, parent: parent)
            }
            if peek(len) == 0x3A || word.count > 1 && word.contains("_") {
                let hint = closest(word, in: filterKeywords).map { "did you mean '\($0)'?" }
                    ?? "conditions are path,OP,value or one of \(filterKeywords.joined(separator: ", "))"
                throw DSLError(offset: kwStart, message: "unknown condition '\(word)'", hint: hint)
            }
        }
        return try compare(nested: nested, depth: depth)
    }

    /// Dispatches to the condition's parser (Operators/<Name>.swift), after `WORD:`; AND, OR
    /// and NOT, the grammar itself, are read here.
    mutating func keywordCondition(_ word: String, at kwStart: Int, nested: Bool, depth: Int, parent: String?) throws(DSLError) -> Condition {
        switch word {
        case "AND", "OR":
            var children: [Condition] = []
            let isOr = word == "OR"
            while true {
                children.append(try condition(nested: true, depth: depth, parent: word))
                guard peek() == 0x3A else { break }
                if let parent, parent != word {
                    // `AND:OR:a:b:NOT:c` — the OR ends before NOT, as the existing tool reads it;
                    // `OR:AND:a:b:AND:c:d` — likewise the AND ends before the next AND.
                    let save = i
                    i += 1
                    let kw = keywordAhead()?.word
                    i = save
                    if kw == "AND" || kw == "OR" || kw == "NOT" { break }
                }
                i += 1
            }
            return isOr ? .or(children) : .and(children)
        case "NOT":
            return .not(try condition(nested: true, depth: depth, parent: nil))
        case "EXISTS", "NOT_EXISTS":
            return try parseExists(negated: word == "NOT_EXISTS", depth: depth)
        case "REGEX":
            return try parseRegexCondition(nested: nested, depth: depth)
        case "ARRAY_ANY", "ARRAY_ALL":
            return try parseArrayMatch(all: word == "ARRAY_ALL", nested: nested, depth: depth)
        case "KEY_PREFIX", "KEY_SUFFIX", "KEY_CONTAINS", "KEY_MATCHES":
            return try parseKeyCondition(word, nested: nested, depth: depth)
        case "HEADER_EXISTS":
            return try parseHeaderExists(nested: nested, depth: depth)
        case "HEADER":
            return try parseHeaderCondition(nested: nested, depth: depth)
        case "TIMESTAMP_AGE", "TIMESTAMP_AFTER", "TIMESTAMP_BEFORE":
            return try parseTimestampCondition(word, depth: depth)
        default:
            throw DSLError(offset: kwStart, message: "unknown condition '\(word)'")
        }
    }

    /// The last argument of REGEX, KEY_* and HEADER_EXISTS: at the top level it runs to the end
    /// of the string (as the existing tool reads it); nested, to the next ':' or ')'.
    mutating func lastArg(nested: Bool, depth: Int, regexLike: Bool) throws(DSLError) -> Token {
        if !nested { return try readRest(regexLike ? .pattern : .literal) }
        if regexLike { return try readPattern(depth: depth) }
        return try readArg(stops: itemStops(nested: true, depth: depth).filter { $0 != 0x2C })
    }

    /// An unquoted regular expression inside a nested condition: it ends at a ':' or ')' that is
    /// outside the pattern's own groups and classes.
    mutating func readPattern(depth: Int) throws(DSLError) -> Token {
        if let b = peek(), b == 0x27 || b == 0x22 { return try readArg(stops: [0x3A, 0x29], .pattern) }
        let start = i
        var groups = 0
        var inClass = false
        while i < end {
            let b = bytes[i]
            if b == 0x5C { i += 2; continue }
            if inClass {
                if b == 0x5D { inClass = false }
            } else if b == 0x5B {
                inClass = true
            } else if b == 0x28 {
                groups += 1
            } else if b == 0x29 {
                if groups == 0 { break }
                groups -= 1
            } else if b == 0x3A && groups == 0 {
                break
            }
            i += 1
        }
        i = min(i, end)
        return Token(text: text(start, i), offset: start, quoted: false)
    }
}

