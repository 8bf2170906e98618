import Testing
@testable import StreamForgeLanguage

/// Inputs at the edges: long subjects for backtracking patterns, huge numbers in a config.
@Suite struct LimitTests {
    @Test func backtrackingRegexOnALongSubjectStillMatches() throws {
        // ^(a|b)*$ recurses once per character: beyond PCRE2's JIT stack it must not quietly
        // become "no match" (that would filter out a record that matches).
        let long = String(repeating: "ab", count: 5_000)
        #expect(try passes("REGEX:/s,^(a|b)*$", #"{"s":"\#(long)"}"#))
        #expect(try !passes("REGEX:/s,^(a|b)*$", #"{"s":"\#(long)c"}"#))
    }

    @Test func substringWithHugeStartOrLengthStaysInsideTheString() throws {
        #expect(try transformed("STRING:SUBSTRING,/s,1,9223372036854775807", #"{"s":"hello"}"#) == #"{"s":"ello"}"#)
        #expect(try transformed("STRING:SUBSTRING,/s,9223372036854775807", #"{"s":"hello"}"#) == #"{"s":""}"#)
        #expect(try transformed("STRING:SUBSTRING,/s,0,2", #"{"s":"héllo"}"#) == #"{"s":"hé"}"#)
    }
}
