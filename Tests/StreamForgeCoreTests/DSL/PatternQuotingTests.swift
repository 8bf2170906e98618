import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

/// Backslashes in quotes are read by context: a quoted regular expression reaches PCRE2 as
/// written (only `\\` and a backslash before the quote are escapes), a quoted literal keeps its
/// escapes. Every place a pattern is written is checked, and the load-time warning for patterns
/// the earlier reading took differently.
@Suite struct PatternQuotingTests {
    /// The patterns of a filter, as PCRE2 receives them, in order.
    func patterns(filter: String) throws -> [String] {
        var p = DSLParser(filter)
        return patterns(try p.parseFilter())
    }

    func patterns(_ c: Condition) -> [String] {
        switch c {
        case .regex(_, let re), .keyMatches(let re): return [re.pattern]
        case .and(let cs), .or(let cs): return cs.flatMap(patterns)
        case .not(let inner): return patterns(inner)
        default: return []
        }
    }

    func replacePattern(transform: String) throws -> String? {
        var p = DSLParser(transform, caches: CacheRegistry())
        var t = try p.parseTransform()
        while case .attempt(let inner, _) = t { t = inner }
        guard case .string(.regexReplace(let re, _), _, _) = t else { return nil }
        return re.pattern
    }

    func warnings(filter: String) throws -> [DSLWarning] {
        var p = DSLParser(filter)
        _ = try p.parseFilter()
        return p.warnings
    }

    // MARK: Each place a pattern is written

    @Test func quotedRegexInAFilterReachesPCRE2AsWritten() throws {
        #expect(try patterns(filter: #"REGEX:/s,'\d{3}-\d{2}'"#) == [#"\d{3}-\d{2}"#])
        #expect(try patterns(filter: #"REGEX:/s,"^\w{2,}$""#) == [#"^\w{2,}$"#])
        #expect(try passes(#"REGEX:/s,'^\w{2,}$'"#, #"{"s":"ab"}"#))
        #expect(try passes(#"REGEX:/s,'^\w{2,}$'"#, #"{"s":"ww"}"#))
        #expect(try !passes(#"REGEX:/s,'^\w{2,}$'"#, #"{"s":"a"}"#))
        #expect(try !passes(#"REGEX:/s,'^\w{2,}$'"#, #"{"s":"a-b"}"#))
        let email = #"REGEX:/e,'^[^@]+@[^@]+\.[^@]+$'"#
        #expect(try passes(email, #"{"e":"alice@example.com"}"#))
        #expect(try !passes(email, #"{"e":"alice@examplecom"}"#))
    }

    @Test func quotedRegexInNestedConditionsReachesPCRE2AsWritten() throws {
        let f = #"AND:(OR:REGEX:/a,'^\d{2,}$':/b,==,1):NOT:(REGEX:/e,'\.x$')"#
        #expect(try patterns(filter: f) == [#"^\d{2,}$"#, #"\.x$"#])
        #expect(try passes(f, #"{"a":"42","e":"ax"}"#))
        #expect(try !passes(f, #"{"a":"42","e":"a.x"}"#))
        #expect(try !passes(f, #"{"a":"dd","e":"ax"}"#))
        // Unparenthesised nesting: the quoted pattern ends at its quote, then ':'.
        let g = #"AND:REGEX:/s,'^\w+,\w+$':KEY_MATCHES:'^k\d$'"#
        #expect(try patterns(filter: g) == [#"^\w+,\w+$"#, #"^k\d$"#])
        #expect(try passes(g, #"{"s":"a,b"}"#, key: "k1"))
        #expect(try !passes(g, #"{"s":"a,b"}"#, key: "kk"))
        #expect(try !passes(g, #"{"s":"a b"}"#, key: "k1"))
    }

    @Test func quotedKeyPatternReachesPCRE2AsWritten() throws {
        #expect(try patterns(filter: #"KEY_MATCHES:'^user-\d+$'"#) == [#"^user-\d+$"#])
        #expect(try passes(#"KEY_MATCHES:'^user-\d+$'"#, "{}", key: "user-42"))
        #expect(try !passes(#"KEY_MATCHES:'^user-\d+$'"#, "{}", key: "user-dd"))
        #expect(try passes(#"NOT:KEY_MATCHES:"^a\.b$""#, "{}", key: "axb"))
        #expect(try !passes(#"NOT:KEY_MATCHES:"^a\.b$""#, "{}", key: "a.b"))
    }

    @Test func quotedRegexReplacePatternReachesPCRE2AsWritten() throws {
        let t = #"STRING:REGEX_REPLACE,/ssn,'\d{3}-\d{2}',XXX-XX"#
        #expect(try replacePattern(transform: t) == #"\d{3}-\d{2}"#)
        #expect(try transformed(t, #"{"ssn":"123-45-6789"}"#) == #"{"ssn":"XXX-XX-6789"}"#)
        #expect(try transformed(t, #"{"ssn":"ddd-dd"}"#) == #"{"ssn":"ddd-dd"}"#)
        // With an output field, and inside TRY (a transform nested in another).
        let out = #"STRING:REGEX_REPLACE,/s,'(\w+)@(\w+)\.com',$2,domain"#
        #expect(try transformed(out, #"{"s":"bob@acme.com"}"#) == #"{"s":"bob@acme.com","domain":"acme"}"#)
        let nested = #"TRY:STRING:REGEX_REPLACE,/s,'\s+',' ',null"#
        #expect(try replacePattern(transform: nested) == #"\s+"#)
        #expect(try transformed(nested, #"{"s":"a  \t b"}"#) == #"{"s":"a b"}"#)
    }

    @Test func onlyDoubledBackslashAndTheQuoteAreEscapesInAPattern() throws {
        // `\\` is one backslash (so PCRE2 sees `\.` here, a literal dot, and `\\` a literal backslash).
        #expect(try patterns(filter: #"REGEX:/s,'a\\.b'"#) == [#"a\.b"#])
        #expect(try patterns(filter: #"REGEX:/s,'a\\\\b'"#) == [#"a\\b"#])
        #expect(try passes(#"REGEX:/s,'^a\\\\b$'"#, #"{"s":"a\\b"}"#))
        #expect(try patterns(filter: #"REGEX:/s,'it\'s'"#) == ["it's"])
        #expect(try patterns(filter: #"REGEX:/s,"say \"hi\"""#) == [#"say "hi""#])
        // The other quote character is not an escape there: the backslash stays (PCRE2: a literal quote).
        #expect(try patterns(filter: #"REGEX:/s,'say \"hi\"'"#) == [#"say \"hi\""#])
        #expect(try passes(#"REGEX:/s,'say \"hi\"'"#, #"{"s":"say \"hi\""}"#))
    }

    @Test func unquotedPatternsAreUnchanged() throws {
        #expect(try patterns(filter: #"REGEX:/t,^\d{2}:\d{2}$"#) == [#"^\d{2}:\d{2}$"#])
        #expect(try patterns(filter: #"AND:REGEX:/s,^act(?:ive|ion)\.$:/n,>,1"#) == [#"^act(?:ive|ion)\.$"#])
        #expect(try patterns(filter: #"KEY_MATCHES:^user-\d+$"#) == [#"^user-\d+$"#])
    }

    // MARK: Literals keep their escapes

    @Test func quotedLiteralsKeepTheirEscapes() throws {
        #expect(try passes(#"/s,==,'a\,b'"#, #"{"s":"a,b"}"#))
        #expect(try passes(#"/s,==,'it\'s'"#, #"{"s":"it's"}"#))
        #expect(try passes(#"/s,==,'\d'"#, #"{"s":"d"}"#))
        #expect(try passes(#"/s,==,'a\nb'"#, #"{"s":"a\nb"}"#))
        #expect(try passes(#"/s,==,'a\\b'"#, #"{"s":"a\\b"}"#))
        #expect(try passes(#"KEY_PREFIX:'\u'"#, "{}", key: "u-1"))
        #expect(try transformed(#"STRING:REPLACE_ALL,/s,'\.',-"#, #"{"s":"a.b"}"#) == #"{"s":"a-b"}"#)
        #expect(try transformed(#"STRING:CONCAT,o,/a,'\t',/b"#, #"{"a":"x","b":"y"}"#) == #"{"a":"x","b":"y","o":"x\ty"}"#)
        // The replacement of REGEX_REPLACE is a literal, not a pattern.
        #expect(try transformed(#"STRING:REGEX_REPLACE,/s,'\d','\,'"#, #"{"s":"a1"}"#) == #"{"s":"a,"}"#)
    }

    // MARK: Warnings for patterns the earlier reading took differently

    @Test func warnsAtTheFirstBackslashTheEarlierReadingChanged() throws {
        let f = #"REGEX:/s,'^\/x\d{3}\.'"#
        let found = try warnings(filter: f)
        #expect(found.count == 1)
        // `\/` means `/` either way; `\d` is the first that differs.
        #expect(found.first?.offset == f.utf8.firstIndex(of: UInt8(ascii: "d")).map { f.utf8.distance(from: f.utf8.startIndex, to: $0) - 1 })
        #expect(found.first?.message.contains(#"'\d'"#) == true)
        #expect(found.first?.message.contains(#"'^/xd{3}.'"#) == true)
        #expect(found.first?.hint?.contains(#"'\\d'"#) == true)
    }

    @Test func noWarningWhereBothReadingsAgree() throws {
        for f in [#"REGEX:/s,'a\\d'"#, #"REGEX:/s,'a\/b\:c\,d'"#, #"REGEX:/s,'a\nb\tc'"#, #"REGEX:/s,'it\'s'"#,
                  #"REGEX:/s,^\d+$"#, #"/s,==,'\d'"#, #"KEY_PREFIX:'\d'"#] {
            #expect(try warnings(filter: f).isEmpty, "\(f)")
        }
        #expect(try !warnings(filter: #"REGEX:/s,'a\-b'"#).isEmpty)
        #expect(try !warnings(filter: #"AND:KEY_EXISTS:KEY_MATCHES:'\w'"#).isEmpty)
    }

    @Test func configLoadWarnsAtThePatternInTheFile() throws {
        let text = """
            appid: a
            bootstrap: b:9092
            input: x
            routing:
              destinations:
                - output: y
                  filter: "REGEX:/s,'\\\\d{3}'"
                - output: z
                  transform: STRING:REGEX_REPLACE,/ssn,'\\d{3}',X
            """
        let analysis = ConfigLoader.analyze(text: text, path: "c.yaml", environment: [:])
        #expect(analysis.config != nil)
        let warnings = analysis.diagnostics.diagnostics.filter { $0.severity == .warning }
        #expect(warnings.map(\.keyPath) == ["routing.destinations[0].filter", "routing.destinations[1].transform"])
        // Line 7: `filter: "REGEX:/s,'\\d{3}'"`; the YAML escape `\\` is one backslash, at column 26.
        #expect(warnings.map(\.line) == [7, 9])
        #expect(warnings.map(\.column) == [26, 45])
        #expect(warnings.allSatisfy { $0.message.contains("now reaches PCRE2 as written") })
    }

    @Test func anInvalidQuotedPatternSaysHowBackslashesAreRead() {
        let e = compileError(filter: #"REGEX:/s,'\k'"#)
        #expect(e?.message.hasPrefix("invalid regular expression") == true)
        #expect(e?.hint?.contains("reaches PCRE2 as written") == true)
    }

    @Test func anInvalidQuotedPatternIsReportedWhereItIsWritten() {
        // PCRE2 stops after `(` at the end; escapes before it (`\\`, `\'`) shrink the text.
        let f = #"REGEX:/s,'a\\b\'c('"#
        let e = compileError(filter: f)
        #expect(e?.message.hasPrefix("invalid regular expression") == true)
        #expect(e?.column == f.count)   // the closing quote, just past the `(`
    }
}
