// The state of one load: the diagnostics found so far, and typed readers for nodes that report
// a located problem instead of stopping, so that a single pass finds every problem.

import StreamForgeLanguage
import FoundationEssentials

/// Reads a file for `${file:...}`; returns its text, or the reason it cannot be read.
typealias TextFileReader = @Sendable (String) -> Result<String, TextFileError>

struct TextFileError: Error, Sendable {
    var reason: String
}

enum ConfigTextFiles {
    /// Reads a UTF-8 text file; the error reason reads well after "unable to read <path>: ".
    static func read(_ path: String) -> Result<String, TextFileError> {
        let manager = FileManager.default
        var isDirectory = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(.init(reason: "no such file"))
        }
        if isDirectory { return .failure(.init(reason: "it is a directory")) }
        guard manager.isReadableFile(atPath: path) else { return .failure(.init(reason: "permission denied")) }
        guard let data = manager.contents(atPath: path) else { return .failure(.init(reason: "read failed")) }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(.init(reason: "it is not UTF-8 text"))
        }
        return .success(text)
    }
}

/// The fields of one mapping, after unknown keys have been reported.
struct ConfigFields {
    let node: ConfigNode
    let path: String
    private(set) var entries: [(key: String, keyNode: ConfigNode, value: ConfigNode)] = []

    init(node: ConfigNode, path: String, entries: [(key: String, keyNode: ConfigNode, value: ConfigNode)]) {
        self.node = node
        self.path = path
        self.entries = entries
    }

    /// The value of `key`, or nil when the key is absent or null.
    subscript(key: String) -> ConfigNode? {
        guard let entry = entries.first(where: { $0.key == key }), !entry.value.isNull else { return nil }
        return entry.value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    /// The key path of `key` inside this mapping.
    func path(_ key: String) -> String { ConfigKeyPath.child(path, key) }
}

enum ConfigKeyPath {
    static func child(_ path: String, _ key: String) -> String {
        let written = key.contains(".") || key.contains(" ") || key.isEmpty ? "[\"\(key)\"]" : key
        if path.isEmpty { return written }
        return written.hasPrefix("[") ? path + written : path + "." + written
    }

    static func index(_ path: String, _ index: Int) -> String { "\(path)[\(index)]" }
}

/// Names whose values are secrets: never echoed in a diagnostic.
enum ConfigSecrets {
    static func isSecret(key: String) -> Bool {
        let lower = key.lowercased()
        return ["password", "secret", "token", "jaas", "credential", "private"].contains { lower.contains($0) }
            || lower == "ssl.key.pem" || lower == "url"
    }

    static func isSecret(path: String) -> Bool {
        isSecret(key: lastKey(of: path))
    }

    /// The last key of a key path: `b` in `a.b`, `c.d` in `a["c.d"]`, `e` in `x.e[2]`.
    static func lastKey(of path: String) -> String {
        var path = Substring(path)
        while path.hasSuffix("]"), !path.hasSuffix("\"]"), let open = path.lastIndex(of: "[") {
            path = path[..<open]
        }
        if path.hasSuffix("\"]"), let open = path.range(of: "[\"", options: .backwards) {
            return String(path[open.upperBound..<path.index(path.endIndex, offsetBy: -2)])
        }
        return String(path.split(separator: ".").last ?? "")
    }
}

/// A scalar value read from the file, after `${...}` substitution.
struct ScalarText {
    var text: String
    var positions: [LocatedString.Position]
    /// True when some of the text came from `${...}`: quoted or not, it may then be a number.
    var substituted: Bool
    var isQuoted: Bool
}

final class LoadContext {
    let file: String
    let environment: [String: String]
    let baseDirectory: String
    let positions: ScalarPositions
    let readFile: TextFileReader
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String, text: String, environment: [String: String], readFile: @escaping TextFileReader) {
        self.file = file
        self.environment = environment
        self.positions = ScalarPositions(text: text)
        self.readFile = readFile
        if let slash = file.lastIndex(of: "/") {
            baseDirectory = file[..<slash].isEmpty ? "/" : String(file[..<slash])
        } else {
            baseDirectory = "."
        }
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    // MARK: Reporting

    func report(_ severity: Diagnostic.Severity, line: Int, column: Int, _ path: String, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(file: file, line: line, column: column, keyPath: path, message: message,
                                      hint: hint, severity: severity))
    }

    func error(_ node: ConfigNode, _ path: String, _ message: String, hint: String? = nil) {
        report(.error, line: node.line, column: node.column, path, message, hint: hint)
    }

    func warning(_ node: ConfigNode, _ path: String, _ message: String, hint: String? = nil) {
        report(.warning, line: node.line, column: node.column, path, message, hint: hint)
    }

    func error(_ location: SourceLocation, _ path: String, _ message: String, hint: String? = nil) {
        report(.error, line: location.line, column: location.column, path, message, hint: hint)
    }

    /// `'value'`, or `a secret value` when the key holds a secret.
    func show(_ value: String, _ path: String) -> String {
        ConfigSecrets.isSecret(path: path) ? "a secret value" : "'\(value)'"
    }

    // MARK: Mappings

    /// The node as a mapping whose keys are all in `allowed`; every other key is reported with
    /// a did-you-mean hint (or the specific hint in `hints`), except the keys of `ignored`
    /// (a warning with the hint given there) and, when `extensionPrefix` is set, keys that start
    /// with it (skipped silently: holders for YAML anchors such as `x-common: &common`). Nil,
    /// after an error, when the node is not a mapping.
    func mapping(_ node: ConfigNode, _ path: String, allowed: [String]?, hints: [String: String] = [:],
                 ignored: [String: String] = [:], extensionPrefix: String? = nil) -> ConfigFields? {
        guard case .mapping(let pairs) = node.kind else {
            error(node, path, "expected a mapping, found \(node.typeDescription)")
            return nil
        }
        var entries: [(key: String, keyNode: ConfigNode, value: ConfigNode)] = []
        for pair in pairs {
            guard case .scalar(let keyScalar) = pair.key.kind else {
                error(pair.key, path, "expected a key name, found \(pair.key.typeDescription)")
                continue
            }
            let key = keyScalar.text
            if let allowed, !allowed.contains(key) {
                if let hint = ignored[key] {
                    warning(pair.key, path, "'\(key)' is ignored (the existing StreamForge tool ignores it too)", hint: hint)
                    continue
                }
                if let extensionPrefix, key.hasPrefix(extensionPrefix) { continue }
                var hint = hints[key]
                if hint == nil, key == "<<" { hint = "YAML merge keys are not supported; write the keys out" }
                if hint == nil, let suggestion = ConfigSuggestions.closest(to: key, in: allowed) {
                    hint = "did you mean '\(suggestion)'?"
                }
                error(pair.key, path, "unknown key '\(key)'", hint: hint)
                continue
            }
            entries.append((key, pair.key, pair.value))
        }
        return ConfigFields(node: node, path: path, entries: entries)
    }

    /// The value of a required key; reports it missing (at the mapping) otherwise.
    func required(_ fields: ConfigFields, _ key: String, hint: String? = nil) -> ConfigNode? {
        if let value = fields[key] { return value }
        if let present = fields.entries.first(where: { $0.key == key }) {
            error(present.value, fields.path(key), "missing value for required key '\(key)'", hint: hint)
        } else {
            let where_ = fields.path.isEmpty ? "" : " in '\(fields.path)'"
            error(fields.node, fields.path, "missing required key '\(key)'\(where_)", hint: hint)
        }
        return nil
    }

    // MARK: Scalars

    /// The scalar's text after `${...}` substitution; reports and returns nil when the node is
    /// not a scalar.
    func scalar(_ node: ConfigNode, _ path: String, expected: String) -> ScalarText? {
        guard case .scalar(let scalar) = node.kind else {
            error(node, path, "expected \(expected), found \(node.typeDescription)")
            return nil
        }
        let raw = positions.positions(for: node, scalar: scalar)
        return substitute(scalar, raw, node: node, path: path)
    }

    func string(_ node: ConfigNode, _ path: String) -> String? {
        scalar(node, path, expected: "a string")?.text
    }

    func located(_ node: ConfigNode, _ path: String) -> LocatedString? {
        guard let value = scalar(node, path, expected: "a string") else { return nil }
        return LocatedString(value: value.text, location: SourceLocation(file: file, line: node.line, column: node.column),
                             keyPath: path, positions: value.positions)
    }

    /// A non-empty string (after trimming spaces).
    func nonEmptyString(_ node: ConfigNode, _ path: String) -> String? {
        guard let text = string(node, path) else { return nil }
        if text.trimmingCharacters(in: .whitespaces).isEmpty {
            error(node, path, "must not be empty")
            return nil
        }
        return text
    }

    func int(_ node: ConfigNode, _ path: String, min: Int? = nil, max: Int? = nil) -> Int? {
        guard let value = scalar(node, path, expected: "an integer") else { return nil }
        guard (!value.isQuoted || value.substituted), let number = ScalarSyntax.int(value.text.trimmingCharacters(in: .whitespaces)) else {
            let found = value.isQuoted && !value.substituted ? "a string" : show(value.text, path)
            error(node, path, "expected an integer, found \(found)",
                  hint: value.isQuoted && ScalarSyntax.int(value.text) != nil ? "write the number without quotes" : nil)
            return nil
        }
        return checkRange(number, node, path, min: min, max: max)
    }

    func checkRange<T: Comparable>(_ number: T, _ node: ConfigNode, _ path: String, min: T?, max: T?) -> T? {
        if let min, number < min {
            error(node, path, max.map { "must be between \(min) and \($0), found \(number)" } ?? "must be at least \(min), found \(number)")
            return nil
        }
        if let max, number > max {
            error(node, path, min.map { "must be between \($0) and \(max), found \(number)" } ?? "must be at most \(max), found \(number)")
            return nil
        }
        return number
    }

    func double(_ node: ConfigNode, _ path: String, min: Double? = nil, max: Double? = nil) -> Double? {
        guard let value = scalar(node, path, expected: "a number") else { return nil }
        guard (!value.isQuoted || value.substituted), let number = ScalarSyntax.double(value.text.trimmingCharacters(in: .whitespaces)),
              number.isFinite else {
            let found = value.isQuoted && !value.substituted ? "a string" : show(value.text, path)
            error(node, path, "expected a number, found \(found)")
            return nil
        }
        return checkRange(number, node, path, min: min, max: max)
    }

    func bool(_ node: ConfigNode, _ path: String) -> Bool? {
        guard let value = scalar(node, path, expected: "a boolean (true or false)") else { return nil }
        guard (!value.isQuoted || value.substituted), let flag = ScalarSyntax.bool(value.text.trimmingCharacters(in: .whitespaces)) else {
            let found = value.isQuoted && !value.substituted ? "a string" : show(value.text, path)
            error(node, path, "expected a boolean (true or false), found \(found)")
            return nil
        }
        return flag
    }

    /// One of `choices` (compared without case); otherwise reports the accepted spellings and
    /// the closest one. `unsupported` values are known but not supported yet.
    func choice<T>(_ node: ConfigNode, _ path: String, _ choices: [(String, T)],
                   unsupported: [String: String] = [:]) -> T? {
        guard let text = string(node, path) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let match = choices.first(where: { $0.0.lowercased() == trimmed.lowercased() }) { return match.1 }
        if let reason = unsupported.first(where: { $0.key.lowercased() == trimmed.lowercased() }) {
            error(node, path, "'\(trimmed)' is not supported yet", hint: reason.value.isEmpty ? nil : reason.value)
            return nil
        }
        let names = choices.map(\.0)
        let list = names.map { "'\($0)'" }.joined(separator: ", ")
        var hint: String
        if let suggestion = ConfigSuggestions.closest(to: trimmed, in: names + Array(unsupported.keys)) {
            hint = "did you mean '\(suggestion)'?"
        } else {
            hint = "expected one of \(list)"
        }
        if ConfigSecrets.isSecret(path: path) { hint = "expected one of \(list)" }
        error(node, path, "invalid value \(show(trimmed, path))", hint: hint)
        return nil
    }

    /// A string, number or boolean, as its text (for free-form librdkafka property maps).
    func propertyValue(_ node: ConfigNode, _ path: String) -> String? {
        if node.isNull {
            error(node, path, "expected a value (string, number or boolean), found null")
            return nil
        }
        return scalar(node, path, expected: "a value (string, number or boolean)")?.text
    }

    // MARK: Substitution

    /// Replaces `${NAME}` with the environment variable NAME, `${file:PATH}` with the file's
    /// text (one trailing newline removed; a relative PATH is relative to the config file's
    /// directory), and `$${` with a literal `${`. Every problem is reported at its `$`.
    private func substitute(_ scalar: ConfigNode.Scalar, _ positions: [LocatedString.Position],
                            node: ConfigNode, path: String) -> ScalarText? {
        let source = Array(scalar.text.unicodeScalars)
        guard scalar.text.contains("${") else {
            return ScalarText(text: scalar.text, positions: positions, substituted: false, isQuoted: scalar.isQuoted)
        }
        let hasPositions = positions.count == source.count
        func position(_ i: Int) -> LocatedString.Position {
            hasPositions ? positions[i] : .init(line: node.line, column: node.column)
        }
        var out = String.UnicodeScalarView()
        var outPositions: [LocatedString.Position] = []
        var substituted = false
        var failed = false
        var i = 0
        while i < source.count {
            if source[i] == "$", i + 2 < source.count, source[i + 1] == "$", source[i + 2] == "{" {
                out.append("$"); outPositions.append(position(i + 1))
                out.append("{"); outPositions.append(position(i + 2))
                i += 3
                continue
            }
            guard source[i] == "$", i + 1 < source.count, source[i + 1] == "{" else {
                out.append(source[i]); outPositions.append(position(i)); i += 1
                continue
            }
            let at = position(i)
            let location = SourceLocation(file: file, line: at.line, column: at.column)
            guard let close = source[(i + 2)...].firstIndex(of: "}") else {
                error(location, path, "unterminated '${' (no closing '}')", hint: "write '$${' for a literal '${'")
                return nil
            }
            let reference = String(String.UnicodeScalarView(source[(i + 2)..<close]))
            var replacement: String?
            if reference.hasPrefix("file:") {
                var filePath = String(reference.dropFirst(5))
                if filePath.isEmpty {
                    error(location, path, "'${file:}' needs a path, as in '${file:/etc/streamforge/password}'")
                    failed = true
                } else {
                    if !filePath.hasPrefix("/") { filePath = baseDirectory + "/" + filePath }
                    switch readFile(filePath) {
                    case .success(var text):
                        if text.hasSuffix("\r\n") { text.removeLast(1) } else if text.hasSuffix("\n") { text.removeLast() }
                        if text.hasSuffix("\r") { text.removeLast() }
                        replacement = text
                    case .failure(let problem):
                        error(location, path, "unable to read \(filePath) for '${file:...}': \(problem.reason)")
                        failed = true
                    }
                }
            } else if Self.isVariableName(reference) {
                if let value = environment[reference] {
                    replacement = value
                } else {
                    error(location, path, "environment variable '\(reference)' is not set",
                          hint: "set \(reference) in the service's environment (for systemd: Environment= or EnvironmentFile=)")
                    failed = true
                }
            } else {
                error(location, path, "invalid reference '${\(reference)}'",
                      hint: "write '${NAME}' for an environment variable, '${file:/path}' for a file's text, or '$${' for a literal '${'")
                failed = true
            }
            if let replacement {
                for s in replacement.unicodeScalars { out.append(s); outPositions.append(at) }
                substituted = true
            }
            i = close + 1
        }
        if failed { return nil }
        return ScalarText(text: String(out), positions: hasPositions ? outPositions : [], substituted: substituted,
                          isQuoted: scalar.isQuoted)
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
