// Configuration problems, reported like a compiler's: every problem at once, each with its file,
// line, column, the key path as written, what is wrong and, where we can tell, a hint.

public import StreamForgeLanguage

/// One problem found in a configuration file.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var file: String
    /// 1-based; 0 when the problem has no position (e.g. the file cannot be read).
    public var line: Int
    /// 1-based, in Unicode scalars; 0 when not known.
    public var column: Int
    /// The key path as written (`routing.destinations[2].filter`); empty for the whole file.
    /// Sequence indices count from 0. Keys that contain a dot are written `["a.b"]`.
    public var keyPath: String
    public var message: String
    public var hint: String?
    public var severity: Severity

    public init(file: String, line: Int, column: Int, keyPath: String, message: String,
                hint: String? = nil, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
        self.hint = hint
        self.severity = severity
    }

    public var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    /// `file:line:column: error: key.path: message`, then `  hint: ...` on its own line.
    public var description: String {
        var text = "\(location): \(severity.rawValue): "
        if !keyPath.isEmpty { text += "\(keyPath): " }
        text += message
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }
}

/// Every problem found while loading a configuration; thrown when at least one is an error.
public struct ConfigDiagnostics: Error, Sendable, CustomStringConvertible {
    /// In file order (line, then column); problems without a position come first.
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The diagnostics as a compiler prints them, one per line (plus hint lines), with a
    /// trailing newline when not empty.
    public var rendered: String {
        diagnostics.map { $0.description + "\n" }.joined()
    }

    public var description: String { rendered }
}

// MARK: - Did you mean

enum ConfigSuggestions {
    /// The closest candidate to `word`, if it is close enough to be a likely typo: same letters
    /// ignoring case and `_`/`-`/`.`, or within a small edit distance.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let normalizedWord = normalize(word)
        if let same = candidates.first(where: { normalize($0) == normalizedWord }) {
            return same
        }
        let limit = max(1, min(3, word.count / 3))
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word.lowercased(), candidate.lowercased())
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    static func normalize(_ word: String) -> String {
        String(word.lowercased().filter { $0 != "_" && $0 != "-" && $0 != "." && $0 != " " })
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
