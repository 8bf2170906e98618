// `streamforgectl test FILE`: test cases kept next to a configuration, run through the same
// compiled pipeline as the daemon (via `DryRun`), each record's outcome compared with what the
// case expects per destination. YAML or JSON:
//
//   config: orders.yaml        # relative to this file
//   partitions: 6              # optional: partition count of every target topic
//   tests:
//     - name: big orders are reshaped
//       input: {value: {id: o1, amount: 150}, key: k1}      # a dry-run sample: envelope or value
//       expect:
//         premium: {key: o1, value: {id: o1, amount: 150}}  # only the members written are compared
//         calc: {error: transform, policy: dlq}
//         archive: filtered
//     - name: a sequence (caches carry over between its records)
//       inputs: [{id: a}, {id: b}]
//       expect: [{premium: filtered}, {premium: filtered}]
//
// Destinations a case does not name are not checked. Each case runs on a fresh pipeline.

import StreamForgeLanguage
import FoundationEssentials

/// A parsed test file.
public struct TestFile: Sendable {
    public var path: String
    /// The `config` key, resolved against the test file's directory.
    public var configPath: String?
    public var partitions: Int32?
    public var cases: [TestCase]

    /// One case: its records and, per record, what each named destination must do.
    public struct TestCase: Sendable {
        public var name: String
        public var line: Int
        var records: [(json: JSONValue, line: Int)]
        var expectations: [[Expectation]]
    }

    struct Expectation: Sendable {
        enum Outcome: Sendable {
            case filtered
            case failed(kind: String?, policy: String?, message: String?)
            /// The members to compare: `topic`, `partition`, `key`, `value`, `value_raw`, `headers`, `timestamp`.
            case produced([JSONMember])
        }
        var destination: String
        var outcome: Outcome
        var line: Int
        var column: Int
    }

    /// Reads a test file; every problem is a located diagnostic.
    public static func parse(text: String, path: String) -> Result<TestFile, ConfigDiagnostics> {
        var reader = TestFileReader(path: path)
        let file = reader.read(text)
        if let file, reader.problems.isEmpty { return .success(file) }
        return .failure(ConfigDiagnostics(diagnostics: reader.problems))
    }
}

/// What one case found.
public struct TestCaseResult: Sendable {
    public var name: String
    public var line: Int
    /// Empty when the case passed.
    public var mismatches: [Mismatch]
    public var passed: Bool { mismatches.isEmpty }

    public struct Mismatch: Sendable, Equatable {
        /// 1-based record of the case.
        public var record: Int
        /// `premium`, `premium.value`, ...
        public var what: String
        public var expected: String
        public var actual: String
    }
}

public enum TestRunner {
    /// Runs every case of `file` against `config`; a destination a case names that the
    /// configuration does not have is a problem of the file, reported before anything runs.
    public static func run(_ file: TestFile, config: StreamForgeConfig, now: Int64,
                           partitionCount: @escaping (String) -> Int32?) throws -> Result<[TestCaseResult], ConfigDiagnostics> {
        let defaults = DryRunRecord.Defaults(config: config, now: now)
        let counts: (String) -> Int32? = file.partitions.map { n in { _ in n } } ?? partitionCount
        let names = try DryRun(config: config, defaults: defaults, partitionCount: counts).names
        var problems: [Diagnostic] = []
        for c in file.cases {
            for e in c.expectations.joined() where !names.contains(e.destination) {
                let hint = ConfigSuggestions.closest(to: e.destination, in: names).map { "did you mean '\($0)'?" }
                    ?? "the destinations are named by their output: \(names.map { "'\($0)'" }.joined(separator: ", "))"
                problems.append(Diagnostic(file: file.path, line: e.line, column: e.column, keyPath: "",
                                           message: "case '\(c.name)': no destination '\(e.destination)' in the configuration", hint: hint))
            }
        }
        if !problems.isEmpty { return .failure(ConfigDiagnostics(diagnostics: problems)) }
        var results: [TestCaseResult] = []
        for c in file.cases {
            let dryRun = try DryRun(config: config, defaults: defaults, partitionCount: counts)
            var mismatches: [TestCaseResult.Mismatch] = []
            for (n, sample) in c.records.enumerated() {
                let outcomes: [DestinationOutcome]
                do {
                    outcomes = dryRun.run(try DryRunRecord(json: sample.json, defaults: dryRun.defaults, offset: Int64(n)))
                } catch {
                    mismatches.append(.init(record: n + 1, what: "input", expected: "a record", actual: "unable to read it: \(error.message)"))
                    continue
                }
                for e in c.expectations[n] {
                    guard let i = dryRun.names.firstIndex(of: e.destination) else { continue }
                    mismatches += compare(e, outcomes[i]).map { .init(record: n + 1, what: $0.what, expected: $0.expected, actual: $0.actual) }
                }
            }
            results.append(TestCaseResult(name: c.name, line: c.line, mismatches: mismatches))
        }
        return .success(results)
    }

    /// The differences between what `e` expects and what the destination did.
    static func compare(_ e: TestFile.Expectation, _ actual: DestinationOutcome) -> [(what: String, expected: String, actual: String)] {
        let name = e.destination
        switch (e.outcome, actual) {
        case (.filtered, .filtered):
            return []
        case (.failed(let kind, let policy, let message), .failed(let k, let m, let p, _)):
            var out: [(String, String, String)] = []
            if let kind, kind != k { out.append(("\(name).error", kind, k)) }
            if let policy, policy != p.rawValue { out.append(("\(name).policy", policy, p.rawValue)) }
            if let message, !m.contains(message) { out.append(("\(name).message", "… \(message) …", m)) }
            return out
        case (.produced(let members), .produced(let p)):
            let got = DryRunReport.json(actual)
            var out: [(String, String, String)] = []
            for m in members {
                let have = member(got, m.key)
                let same: Bool
                switch m.key {
                case "headers": same = headersEqual(m.value, have)
                case "key": same = have == .null ? m.value == .null : keyText(m.value) == keyText(have ?? .null)
                case "value_raw":
                    same = p.value.map { String(decoding: $0, as: UTF8.self) } == { if case .string(let s) = m.value { return s } else { return nil } }()
                default: same = have.map { jsonEqual(m.value, $0) } ?? false
                }
                if !same {
                    let shown: String
                    if m.key == "value_raw" || (m.key == "value" && have == nil) {
                        shown = p.value.map { "value_raw " + JSONValue.string(String(decoding: $0, as: UTF8.self)).jsonText } ?? "null"
                    } else {
                        shown = have?.jsonText ?? "absent"
                    }
                    let note = m.key == "partition" && p.partition == nil ? " (\(p.partitionNote))" : ""
                    out.append(("\(name).\(m.key)", m.value.jsonText, shown + note))
                }
            }
            return out
        default:
            return [(name, describe(e.outcome), DryRunReport.json(actual).jsonText)]
        }
    }

    static func describe(_ o: TestFile.Expectation.Outcome) -> String {
        switch o {
        case .filtered: return "filtered"
        case .failed(let kind, let policy, let message):
            var m: [JSONMember] = [JSONMember(key: "error", value: .string(kind ?? "any"))]
            if let policy { m.append(JSONMember(key: "policy", value: .string(policy))) }
            if let message { m.append(JSONMember(key: "message", value: .string(message))) }
            return JSONValue.object(m).jsonText
        case .produced(let members): return "produced " + JSONValue.object(members).jsonText
        }
    }

    static func member(_ v: JSONValue, _ name: String) -> JSONValue? {
        guard case .object(let ms) = v else { return nil }
        return ms.first { $0.key == name }?.value
    }

    /// A key as text: a string is its text, other JSON its compact text.
    static func keyText(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return v.jsonText
    }

    /// Headers written as a list compare in order, duplicates included; written as a mapping,
    /// each named header's last value must match and no other header may be present.
    static func headersEqual(_ expected: JSONValue, _ actual: JSONValue?) -> Bool {
        guard case .array(let have)? = actual else { return false }
        let pairs: [(String, JSONValue)] = have.compactMap {
            guard case .array(let p) = $0, p.count == 2, case .string(let n) = p[0] else { return nil }
            return (n, p[1])
        }
        func text(_ v: JSONValue) -> String? { v == .null ? nil : keyText(v) }
        switch expected {
        case .array(let want):
            guard want.count == pairs.count else { return false }
            return zip(want, pairs).allSatisfy { w, h in
                guard case .array(let p) = w, p.count == 2, case .string(let n) = p[0] else { return false }
                return n == h.0 && text(p[1]) == text(h.1)
            }
        case .object(let want):
            guard Set(want.map(\.key)) == Set(pairs.map(\.0)) else { return false }
            return want.allSatisfy { w in text(w.value) == pairs.last { $0.0 == w.key }.flatMap { text($0.1) } }
        default:
            return false
        }
    }

    /// JSON equality as a reader means it: members in any order, numbers by value.
    static func jsonEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.number(x), .number(y)):
            if x == y { return true }
            if let dx = Decimal(string: x), let dy = Decimal(string: y) { return dx == dy }
            return false
        case let (.array(x), .array(y)):
            return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
        case let (.object(x), .object(y)):
            guard Set(x.map(\.key)) == Set(y.map(\.key)) else { return false }
            return x.allSatisfy { m in y.first { $0.key == m.key }.map { jsonEqual(m.value, $0.value) } ?? false }
        default:
            return a == b
        }
    }

    /// The report of a run: a line per case, the differences of each failed one, and a total.
    public static func report(_ results: [TestCaseResult], file: String) -> String {
        var out = ""
        for r in results {
            out += "\(r.passed ? "ok  " : "FAIL") \(r.name) (\(file):\(r.line))\n"
            for m in r.mismatches {
                out += "  record \(m.record), \(m.what):\n    - expected: \(m.expected)\n    + actual:   \(m.actual)\n"
            }
        }
        let failed = results.filter { !$0.passed }.count
        out += "\(file): \(results.count) test\(results.count == 1 ? "" : "s"), \(results.count - failed) passed, \(failed) failed\n"
        return out
    }
}

/// Reads a test file's document into `TestFile`, collecting every problem with its location.
struct TestFileReader {
    let path: String
    var problems: [Diagnostic] = []

    init(path: String) { self.path = path }

    mutating func problem(_ node: ConfigNode, _ message: String, hint: String? = nil) {
        problems.append(Diagnostic(file: path, line: node.line, column: node.column, keyPath: "", message: message, hint: hint))
    }

    mutating func read(_ text: String) -> TestFile? {
        let root: ConfigNode
        switch DocumentParser.parse(text: text, format: DocumentFormat.detect(path: path, text: text), file: path) {
        case .failure(let d): problems.append(d); return nil
        case .empty:
            problems.append(Diagnostic(file: path, line: 1, column: 1, keyPath: "", message: "the test file is empty",
                                       hint: "write 'tests:' with a list of cases (see docs/dsl.md)"))
            return nil
        case .document(let node): root = node
        }
        guard let top = fields(root, ["config", "partitions", "tests"], what: "the test file") else { return nil }
        var file = TestFile(path: path, configPath: nil, partitions: nil, cases: [])
        if let c = top["config"] {
            if case .scalar(let s) = c.kind, !s.text.isEmpty {
                file.configPath = s.text.hasPrefix("/") ? s.text
                    : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(s.text).path
            } else {
                problem(c, "'config' must be the path of a configuration file")
            }
        }
        if let p = top["partitions"] {
            if case .scalar(let s) = p.kind, !s.isQuoted, let n = Int32(s.text), n > 0 { file.partitions = n } else {
                problem(p, "'partitions' must be a positive integer")
            }
        }
        guard let tests = top["tests"] else {
            problem(root, "missing key 'tests'", hint: "a list of cases with 'name', 'input' and 'expect'")
            return nil
        }
        guard case .sequence(let items) = tests.kind, !items.isEmpty else {
            problem(tests, "'tests' must be a non-empty list of cases")
            return nil
        }
        for (i, item) in items.enumerated() {
            if let c = readCase(item, index: i) { file.cases.append(c) }
        }
        return file
    }

    mutating func readCase(_ node: ConfigNode, index: Int) -> TestFile.TestCase? {
        guard let f = fields(node, ["name", "input", "inputs", "expect"], what: "a test case") else { return nil }
        var name = "case \(index + 1)"
        if let n = f["name"] {
            if case .scalar(let s) = n.kind { name = s.text } else { problem(n, "'name' must be a string") }
        }
        var records: [(json: JSONValue, line: Int)] = []
        let single: Bool
        switch (f["input"], f["inputs"]) {
        case (let one?, nil):
            single = true
            guard let v = json(one) else { return nil }
            records = [(v, one.line)]
        case (nil, let many?):
            single = false
            guard case .sequence(let list) = many.kind, !list.isEmpty else {
                problem(many, "'inputs' must be a non-empty list of records")
                return nil
            }
            for item in list {
                guard let v = json(item) else { return nil }
                records.append((v, item.line))
            }
        case (.some, .some):
            problem(node, "case '\(name)': write 'input' (one record) or 'inputs' (a list), not both")
            return nil
        case (nil, nil):
            problem(node, "case '\(name)': missing 'input'", hint: "the record to run, as a dry-run line: a value or {value: ..., key: ...}")
            return nil
        }
        guard let expectNode = f["expect"] else {
            problem(node, "case '\(name)': missing 'expect'", hint: "what each destination does: filtered, {error: kind} or the record's members")
            return nil
        }
        var expectations: [[TestFile.Expectation]] = []
        if single {
            guard let e = readExpect(expectNode, name) else { return nil }
            expectations = [e]
        } else {
            guard case .sequence(let list) = expectNode.kind, list.count == records.count else {
                problem(expectNode, "case '\(name)': with 'inputs', 'expect' is a list with one entry per record (\(records.count))")
                return nil
            }
            for item in list {
                guard let e = readExpect(item, name) else { return nil }
                expectations.append(e)
            }
        }
        return TestFile.TestCase(name: name, line: node.line, records: records, expectations: expectations)
    }

    /// `{destination: filtered | {error: kind, policy, message} | {topic, partition, key, value, value_raw, headers, timestamp}}`
    mutating func readExpect(_ node: ConfigNode, _ name: String) -> [TestFile.Expectation]? {
        guard case .mapping(let pairs) = node.kind else {
            problem(node, "case '\(name)': 'expect' must map destinations to what they do")
            return nil
        }
        var out: [TestFile.Expectation] = []
        for pair in pairs {
            guard case .scalar(let key) = pair.key.kind else { problem(pair.key, "expected a destination name"); return nil }
            let v = pair.value
            let outcome: TestFile.Expectation.Outcome
            if case .scalar(let s) = v.kind {
                guard s.text == "filtered" else {
                    problem(v, "case '\(name)': '\(key.text)' expects 'filtered', {error: kind} or the record's members, found '\(s.text)'")
                    return nil
                }
                outcome = .filtered
            } else {
                guard let members = fields(v, ["error", "policy", "message", "topic", "partition", "key", "value", "value_raw", "headers", "timestamp"],
                                           what: "an expectation") else { return nil }
                if members.has("error") || members.has("policy") || members.has("message") {
                    if let other = members.entries.first(where: { !["error", "policy", "message"].contains($0.key) }) {
                        problem(other.keyNode, "case '\(name)': '\(other.key)' describes a produced record, and this expectation is an error")
                        return nil
                    }
                    func text(_ k: String) -> String? {
                        guard let n = members[k], case .scalar(let s) = n.kind, !n.isNull else { return nil }
                        return s.text == "true" && k == "error" ? nil : s.text
                    }
                    outcome = .failed(kind: text("error"), policy: text("policy"), message: text("message"))
                } else {
                    var produced: [JSONMember] = []
                    for entry in members.entries {
                        guard let j = json(entry.value) else { return nil }
                        produced.append(JSONMember(key: entry.key, value: j))
                    }
                    outcome = .produced(produced)
                }
            }
            out.append(.init(destination: key.text, outcome: outcome, line: pair.key.line, column: pair.key.column))
        }
        return out
    }

    /// The node's entries, each key one of `allowed` (others are reported with a hint).
    mutating func fields(_ node: ConfigNode, _ allowed: [String], what: String) -> ConfigFields? {
        guard case .mapping(let pairs) = node.kind else {
            problem(node, "expected \(what) (a mapping), found \(node.typeDescription)")
            return nil
        }
        var entries: [(key: String, keyNode: ConfigNode, value: ConfigNode)] = []
        for pair in pairs {
            guard case .scalar(let k) = pair.key.kind else { problem(pair.key, "expected a key"); continue }
            guard allowed.contains(k.text) else {
                let hint = ConfigSuggestions.closest(to: k.text, in: allowed).map { "did you mean '\($0)'?" }
                    ?? "the keys of \(what) are \(allowed.joined(separator: ", "))"
                problem(pair.key, "unknown key '\(k.text)' in \(what)", hint: hint)
                return nil
            }
            entries.append((k.text, pair.key, pair.value))
        }
        return ConfigFields(node: node, path: "", entries: entries)
    }

    /// A YAML (or JSON) node as JSON: plain `null`/`~`/empty, `true`/`false` and numbers are
    /// typed (YAML 1.2 core schema), quoted scalars and everything else are strings.
    mutating func json(_ node: ConfigNode) -> JSONValue? {
        switch node.kind {
        case .scalar(let s):
            if node.isNull { return .null }
            if s.isQuoted { return .string(s.text) }
            if let b = ScalarSyntax.bool(s.text) { return .bool(b) }
            if ScalarSyntax.double(s.text) != nil || ScalarSyntax.int(s.text) != nil {
                if case .number(let t)? = try? JSONValue.parse(s.text) { return .number(t) }
                if let d = Double(s.text), d.isFinite { return .number(NumberText.format(d) ?? "\(d)") }
            }
            return .string(s.text)
        case .sequence(let items):
            var out: [JSONValue] = []
            for item in items {
                guard let v = json(item) else { return nil }
                out.append(v)
            }
            return .array(out)
        case .mapping(let pairs):
            var out: [JSONMember] = []
            for pair in pairs {
                guard case .scalar(let k) = pair.key.kind else { problem(pair.key, "expected a member name"); return nil }
                guard let v = json(pair.value) else { return nil }
                out.append(JSONMember(key: k.text, value: v))
            }
            return .object(out)
        }
    }
}
