// The document tree the loader walks: Yams' composed nodes reduced to what the loader needs,
// each with its line and column. JSON files go through the same parser (JSON is YAML 1.2 flow
// syntax), so both formats give located nodes and located syntax errors.

import StreamForgeLanguage
internal import Yams

/// A node of the configuration document with its position (1-based line and column).
struct ConfigNode {
    enum Kind {
        case scalar(Scalar)
        case mapping([(key: ConfigNode, value: ConfigNode)])
        case sequence([ConfigNode])
    }

    struct Scalar {
        var text: String
        /// Quoted (`'...'`, `"..."`) or block (`|`, `>`) scalars are always strings.
        var isQuoted: Bool
        var style: Node.Scalar.Style
    }

    var kind: Kind
    var line: Int
    var column: Int

    /// A plain `null`, `~` or empty scalar: the same as an absent key.
    var isNull: Bool {
        guard case .scalar(let scalar) = kind, !scalar.isQuoted else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.text)
    }

    /// What the node is, for "expected X, found Y" messages.
    var typeDescription: String {
        switch kind {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar):
            if isNull { return "null" }
            if scalar.isQuoted { return "a string" }
            if ScalarSyntax.bool(scalar.text) != nil { return "a boolean" }
            if ScalarSyntax.int(scalar.text) != nil { return "an integer" }
            if ScalarSyntax.double(scalar.text) != nil { return "a number" }
            return "a string"
        }
    }
}

/// YAML 1.2 core-schema spellings of plain scalars (we do not use YAML 1.1's yes/no/on/off).
enum ScalarSyntax {
    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    static func int(_ text: String) -> Int? {
        var digits = Substring(text)
        if digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else { return nil }
        return Int(digits)
    }

    static func double(_ text: String) -> Double? {
        guard let first = text.first, first.isNumber || first == "-" || first == "+" || first == "." else { return nil }
        return Double(text)
    }
}

enum DocumentFormat: String {
    case json = "JSON"
    case yaml = "YAML"

    /// `.json` is JSON; `.yaml`/`.yml` is YAML; anything else is read as YAML, which also reads
    /// JSON, and is called JSON in messages when it starts with `{`.
    static func detect(path: String, text: String) -> DocumentFormat {
        let lower = path.lowercased()
        if lower.hasSuffix(".json") { return .json }
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") { return .yaml }
        return text.drop(while: { $0.isWhitespace }).first == "{" ? .json : .yaml
    }
}

enum DocumentParser {
    /// Parses `text`; a syntax error becomes a located diagnostic.
    enum Outcome {
        case document(ConfigNode)
        case empty
        case failure(Diagnostic)
    }

    static func parse(text: String, format: DocumentFormat, file: String) -> Outcome {
        var source = text
        if source.hasPrefix("\u{FEFF}") { source.removeFirst() }
        if format == .json {
            // JSON allows tabs wherever it allows spaces; YAML does not allow them everywhere.
            // One tab becomes one space outside strings, so every column stays the same.
            source = replacingTabsOutsideStrings(source)
        }
        do {
            guard let node = try Yams.compose(yaml: source) else { return .empty }
            var budget = maxValues
            guard let root = convert(node, budget: &budget) else {
                return .failure(Diagnostic(file: file, line: 1, column: 1, keyPath: "",
                                           message: "unable to parse \(format.rawValue): more than \(maxValues) values once aliases are expanded",
                                           hint: "aliases of aliases multiply: expand fewer of them"))
            }
            return .document(root)
        } catch let error as YamlError {
            return .failure(diagnostic(for: error, format: format, file: file, text: source))
        } catch {
            return .failure(Diagnostic(file: file, line: 0, column: 0, keyPath: "",
                                       message: "unable to parse \(format.rawValue): \(error)"))
        }
    }

    /// Values a document may hold with its aliases expanded: far more than any configuration,
    /// and few enough that aliases of aliases (a few lines that expand to millions of values)
    /// cannot stall a load.
    static let maxValues = 100_000

    /// nil when the document holds more than `budget` values.
    private static func convert(_ node: Node, budget: inout Int) -> ConfigNode? {
        budget -= 1
        guard budget >= 0 else { return nil }
        let line = node.mark?.line ?? 0, column = node.mark?.column ?? 0
        switch node {
        case .scalar(let scalar):
            let quoted = scalar.style != .plain && scalar.style != .any
            return ConfigNode(kind: .scalar(.init(text: scalar.string, isQuoted: quoted, style: scalar.style)),
                              line: line, column: column)
        case .mapping(let mapping):
            var pairs: [(key: ConfigNode, value: ConfigNode)] = []
            for (key, value) in mapping {
                guard let k = convert(key, budget: &budget), let v = convert(value, budget: &budget) else { return nil }
                pairs.append((key: k, value: v))
            }
            return ConfigNode(kind: .mapping(pairs), line: line, column: column)
        case .sequence(let sequence):
            var items: [ConfigNode] = []
            for item in sequence {
                guard let converted = convert(item, budget: &budget) else { return nil }
                items.append(converted)
            }
            return ConfigNode(kind: .sequence(items), line: line, column: column)
        case .alias:
            // Yams resolves aliases while composing; an unresolved one reads as null.
            return ConfigNode(kind: .scalar(.init(text: "", isQuoted: false, style: .plain)),
                              line: line, column: column)
        }
    }

    private static func diagnostic(for error: YamlError, format: DocumentFormat, file: String, text: String) -> Diagnostic {
        let what = "unable to parse \(format.rawValue)"
        func located(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> Diagnostic {
            var hint: String?
            let line = lines(of: text, at: mark.line)
            if problem.contains("cannot start any token"), line.contains("\t") {
                hint = "YAML does not allow tabs for indentation; indent with spaces"
            } else if let context {
                hint = "\(context.text) at line \(context.mark.line), column \(context.mark.column)"
            }
            return Diagnostic(file: file, line: mark.line, column: mark.column, keyPath: "",
                              message: "\(what): \(problem)", hint: hint)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return located(problem, context, mark)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return Diagnostic(file: file, line: context.mark.line, column: context.mark.column, keyPath: "",
                              message: "duplicate key \(names) in the same mapping",
                              hint: "each key may appear once; remove or merge the repeated entries")
        case .reader(let problem, let offset, _, _):
            var line = 0, column = 0
            if let offset {
                let prefix = text.prefix(offset)
                line = prefix.filter { $0 == "\n" }.count + 1
                column = prefix.split(separator: "\n", omittingEmptySubsequences: false).last.map { $0.unicodeScalars.count + 1 } ?? 1
            }
            return Diagnostic(file: file, line: line, column: column, keyPath: "",
                              message: "unable to read \(format.rawValue) text: \(problem)")
        default:
            return Diagnostic(file: file, line: 0, column: 0, keyPath: "", message: "\(what): \(error)")
        }
    }

    private static func lines(of text: String, at line: Int) -> Substring {
        let all = text.split(separator: "\n", omittingEmptySubsequences: false)
        return line >= 1 && line <= all.count ? all[line - 1] : ""
    }

    static func replacingTabsOutsideStrings(_ text: String) -> String {
        guard text.contains("\t") else { return text }
        var out = String.UnicodeScalarView()
        var inString = false
        var escaped = false
        for scalar in text.unicodeScalars {
            if inString {
                if escaped { escaped = false } else if scalar == "\\" { escaped = true } else if scalar == "\"" { inString = false }
                out.append(scalar)
            } else if scalar == "\"" {
                inString = true
                out.append(scalar)
            } else {
                out.append(scalar == "\t" ? " " : scalar)
            }
        }
        return String(out)
    }
}

/// Maps each Unicode scalar of a single-line scalar's value back to its column in the source,
/// by re-reading the raw text (quotes and escapes take columns that the value does not have).
struct ScalarPositions {
    let lines: [[Unicode.Scalar]]

    init(text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
    }

    func positions(for node: ConfigNode, scalar: ConfigNode.Scalar) -> [LocatedString.Position] {
        guard node.line >= 1, node.line <= lines.count else { return [] }
        let raw = lines[node.line - 1]
        var index = node.column - 1
        guard index >= 0, index <= raw.count else { return [] }
        let expected = Array(scalar.text.unicodeScalars)
        var decoded: [Unicode.Scalar] = []
        var columns: [Int] = []
        switch scalar.style {
        case .plain, .any:
            guard index + expected.count <= raw.count, Array(raw[index..<index + expected.count]) == expected else {
                return []
            }
            return (0..<expected.count).map { .init(line: node.line, column: node.column + $0) }
        case .singleQuoted:
            index += 1
            while index < raw.count {
                if raw[index] == "'" {
                    if index + 1 < raw.count, raw[index + 1] == "'" {
                        decoded.append("'"); columns.append(index + 1); index += 2; continue
                    }
                    break
                }
                decoded.append(raw[index]); columns.append(index + 1); index += 1
            }
        case .doubleQuoted:
            index += 1
            while index < raw.count, raw[index] != "\"" {
                if raw[index] == "\\" {
                    guard index + 1 < raw.count else { return [] }
                    let length: Int
                    switch raw[index + 1] {
                    case "x": length = 4
                    case "u": length = 6
                    case "U": length = 10
                    default: length = 2
                    }
                    decoded.append("?"); columns.append(index + 1); index += length
                    continue
                }
                decoded.append(raw[index]); columns.append(index + 1); index += 1
            }
        default:
            return []
        }
        // Escapes decode to one scalar each; anything else (line folding, surrogate pairs)
        // makes the counts differ, and then we keep only the scalar's start.
        guard decoded.count == expected.count else { return [] }
        return columns.map { .init(line: node.line, column: $0) }
    }
}
