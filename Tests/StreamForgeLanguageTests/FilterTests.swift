import Testing
@testable import StreamForgeLanguage

@Suite struct FilterTests {
    let order = #"{"user":{"id":"u1","age":30,"tier":"gold","email":"a@x.io"},"amount":150.5,"status":"active","ok":true,"gone":null,"tags":["a","vip"],"items":[{"sku":"A","qty":2},{"sku":"B","qty":0}],"e":"xxy"}"#

    @Test func comparesNumbersStringsBooleansAndNull() throws {
        #expect(try passes("/amount,>,100", order))
        #expect(try !passes("/amount,<,100", order))
        #expect(try passes("/amount,>=,150.5", order))
        #expect(try passes("/user/age,==,30", order))
        #expect(try passes("/status,==,active", order))
        #expect(try passes("/status,!=,inactive", order))
        #expect(try passes("/ok,==,true", order))
        #expect(try passes("/gone,==,null", order))
        #expect(try !passes("/status,==,null", order))
        #expect(try passes("/status,==,'active'", order))
        #expect(try passes(#"/status,==,"active""#, order))
    }

    @Test func numericStringIsNotANumber() throws {
        #expect(try !passes("/n,==,5", #"{"n":"5"}"#))
        #expect(try passes("/n,==,'5'", #"{"n":"5"}"#))
        #expect(try passes("/n,!=,5", #"{"n":"5"}"#))
        #expect(try !passes("/n,>,1", #"{"n":"5"}"#))
    }

    @Test func missingFieldMakesEqualFalseAndNotEqualTrue() throws {
        #expect(try !passes("/nope,==,1", order))
        #expect(try passes("/nope,!=,1", order))
        #expect(try !passes("/nope,>,1", order))
        #expect(try !passes("/nope,==,null", order))
        #expect(try passes("NOT_EXISTS:/nope", order))
        #expect(try passes("EXISTS:/gone", order))
        #expect(try !passes("EXISTS:/nope", order))
    }

    @Test func pointersFollowRFC6901() throws {
        let v = #"{"a/b":{"m~n":1},"items":[{"name":"x"},{"name":"y"}]}"#
        #expect(try passes("/a~1b/m~0n,==,1", v))
        #expect(try passes("/items/1/name,==,y", v))
        #expect(try !passes("/items/2/name,==,y", v))
    }

    @Test func booleanLogicNestsAtAnyDepth() throws {
        #expect(try passes("AND:/amount,>,100:/status,==,active", order))
        #expect(try !passes("AND:/amount,>,100:/status,==,inactive", order))
        #expect(try passes("OR:/amount,>,1000:/status,==,active", order))
        #expect(try passes("NOT:/status,==,inactive", order))
        // The example of DSL.md §2.
        let f = "AND:(OR:/a,==,1:/b,==,2):NOT:(REGEX:/e,'^x{2,}')"
        #expect(try passes(f, #"{"a":1,"e":"yx"}"#))
        #expect(try !passes(f, #"{"a":1,"e":"xxy"}"#))
        #expect(try !passes(f, #"{"a":3,"b":3,"e":"y"}"#))
        #expect(try passes("AND:(OR:(AND:/a,==,1:/b,==,2):/c,==,3):(NOT:(NOT:/d,==,4))", #"{"a":1,"b":2,"d":4}"#))
    }

    @Test func unparenthesisedOrInsideAndEndsAtTheNextKeyword() throws {
        // As the existing tool reads it: AND(OR(a,b), NOT(c)).
        let f = "AND:OR:/a,==,1:/b,==,2:NOT:/c,==,3"
        #expect(try passes(f, #"{"a":1,"c":4}"#))
        #expect(try !passes(f, #"{"a":1,"c":3}"#))
        #expect(try passes("AND:/x,==,1:OR:/a,==,1:/b,==,2", #"{"x":1,"b":2}"#))
    }

    @Test func regexIsUnanchoredPCRE() throws {
        #expect(try passes("REGEX:/user/email,@x\\.io$", order))
        #expect(try passes("REGEX:/status,ctiv", order))
        #expect(try !passes("REGEX:/status,^ctiv", order))
        // At the top level the pattern runs to the end: commas and colons are part of it.
        #expect(try passes(#"REGEX:/user/email,^[\w\.-]+@[\w\.-]+\.\w{2,}$"#, order))
        #expect(try passes("REGEX:/t,^\\d{2}:\\d{2}$", #"{"t":"12:30"}"#))
        #expect(try !passes("REGEX:/user/age,30", order))   // not a string
        #expect(try passes("AND:REGEX:/status,^act(?:ive|ion)$:/amount,>,1", order))
    }

    @Test func arrayAnyAndAll() throws {
        #expect(try passes("ARRAY_ANY:/items,/qty,==,0", order))
        #expect(try !passes("ARRAY_ALL:/items,/qty,>,0", order))
        #expect(try passes("ARRAY_ALL:/items,/sku,!=,Z", order))
        #expect(try passes("ARRAY_ANY:/tags,,==,vip", order))
        #expect(try passes("ARRAY_ANY:/tags,'',==,vip", order))
        #expect(try !passes("ARRAY_ANY:/e,,==,vip", #"{"e":[]}"#))
        #expect(try passes("ARRAY_ALL:/e,,==,vip", #"{"e":[]}"#))
        #expect(try !passes("ARRAY_ANY:/nope,,==,vip", order))
    }

    @Test func keyFilters() throws {
        #expect(try passes("KEY_EXISTS", "{}", key: "k"))
        #expect(try !passes("KEY_EXISTS", "{}", key: nil))
        #expect(try passes("KEY_PREFIX:user-", "{}", key: "user-123"))
        #expect(try passes("KEY_SUFFIX:-prod", "{}", key: "svc-prod"))
        #expect(try passes("KEY_CONTAINS:vip", "{}", key: "a-vip-b"))
        #expect(try passes("KEY_MATCHES:^user-\\d+$", "{}", key: "user-42"))
        #expect(try !passes("KEY_MATCHES:^user-\\d+$", "{}", key: "admin-1"))
        #expect(try !passes("KEY_PREFIX:user-", "{}", key: nil))
        // A key that is a JSON string is read as its text.
        #expect(try passes("KEY_PREFIX:user-", "{}", key: "\"user-1\""))
        #expect(try passes("KEY_PREFIX:a:b", "{}", key: "a:b:c"))
    }

    @Test func headerFilters() throws {
        let hs: [(String, String?)] = [("x-tenant", "prod"), ("x-prio", "7")]
        #expect(try passes("HEADER_EXISTS:x-tenant", "{}", headers: hs))
        #expect(try !passes("HEADER_EXISTS:x-none", "{}", headers: hs))
        #expect(try passes("HEADER:x-tenant,==,prod", "{}", headers: hs))
        #expect(try passes("HEADER:x-tenant,!=,test", "{}", headers: hs))
        #expect(try passes("HEADER:x-none,!=,test", "{}", headers: hs))
        #expect(try passes("HEADER:x-prio,>,5", "{}", headers: hs))
        #expect(try !passes("HEADER:x-tenant,>,5", "{}", headers: hs))
        #expect(try passes("AND:HEADER:x-tenant,==,prod:/a,==,1", #"{"a":1}"#, headers: hs))
    }

    @Test func timestampFilters() throws {
        let now = CacheStore.nowMs()
        #expect(try passes("TIMESTAMP_AGE:<,300", "{}", timestamp: now - 10_000))
        #expect(try !passes("TIMESTAMP_AGE:>,3600", "{}", timestamp: now - 10_000))
        #expect(try passes("TIMESTAMP_AFTER:1704067200000", "{}", timestamp: 1_704_067_200_001))
        #expect(try !passes("TIMESTAMP_AFTER:1704067200000", "{}", timestamp: 1_704_067_200_000))
        #expect(try passes("TIMESTAMP_BEFORE:1704067200000", "{}", timestamp: 1_704_067_199_999))
    }

    @Test func quotedLiteralsMayHoldSeparators() throws {
        #expect(try passes("/m,==,'a,b:(c)'", #"{"m":"a,b:(c)"}"#))
        #expect(try passes("AND:/m,==,'a:b':/n,==,1", #"{"m":"a:b","n":1}"#))
        #expect(try passes(#"/m,==,'it\'s'"#, #"{"m":"it's"}"#))
        #expect(try passes("/m,==,12:30", #"{"m":"12:30"}"#))
    }

    @Test func escapedNamesAndValuesAreDecoded() throws {
        #expect(try passes("/caf\u{e9},==,cr\u{e8}me", #"{"caf\u00e9":"cr\u00e8me"}"#))
        #expect(try passes("/q,==,'a\"b'", #"{"q":"a\"b"}"#))
    }

    @Test func bigNumbersCompareAsNumbers() throws {
        #expect(try passes("/n,>,1e18", #"{"n":12345678901234567890}"#))
        #expect(try passes("/n,==,-0.5", #"{"n":-5e-1}"#))
    }
}

@Suite struct FilterErrorTests {
    @Test(arguments: [
        ("/a,=<,1", 4, "unknown operator '=<'"),
        ("ANDD:/a,==,1", 1, "unknown condition 'ANDD'"),
        ("AND:/a,==,1:(/b,==,2", 13, "unbalanced '('"),
        ("(/a,==,1))", 10, "unexpected ')'"),
        ("REGEX:/a,(x", 12, "invalid regular expression"),
        ("/a,==,'abc", 7, "unterminated quoted string"),
        ("/a,==", 6, "expected ',' after the operator"),
        ("/a", 3, "expected ','"),
        ("", 1, "empty filter"),
        ("TIMESTAMP_AFTER:soon", 17, "expected epoch milliseconds"),
        ("/a~2,==,1", 3, "'~' must be followed"),
        ("AND:/a,==,1:", 13, "expected a condition"),
        ("/a,==,1,2", 8, "unexpected ','"),
        ("NOT:(REGEX:/e,'^x{2,}'", 5, "unbalanced '('"),
        ("/a,==,'x'y", 10, "unexpected 'y' after the quoted string"),
    ])
    func rejectsMalformedFilterAtColumn(_ source: String, _ column: Int, _ message: String) throws {
        let e = try #require(compileError(filter: source))
        #expect(e.column == column, "\(source): \(e)")
        #expect(e.message.contains(message), "\(source): \(e)")
        #expect(e.keyPath == "routing.destinations[0].filter")
        #expect(e.caret.hasSuffix(String(repeating: " ", count: column - 1) + "^"))
    }

    @Test func reportsEveryErrorAtOnce() {
        let routing = RoutingConfig(destinations: [
            DestinationConfig(output: "a", filter: "/x,=,1"),
            DestinationConfig(output: "b", filter: "/x,==,1", transform: "CONSTRUCTX:a=/b"),
            DestinationConfig(output: "c", timestamp: "LATER", partition: .field("/a~"))
        ])
        do {
            _ = try Pipeline(routing: routing)
            Issue.record("expected errors")
        } catch {
            #expect(error.errors.map(\.keyPath) == ["routing.destinations[0].filter", "routing.destinations[1].transform",
                                                    "routing.destinations[2].timestamp", "routing.destinations[2].partition"])
            #expect(error.errors[0].hint == "use '==' for equality")
            #expect(error.errors[1].hint == "did you mean 'CONSTRUCT'?")
        }
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let e = try #require(compileError(filter: "/caf\u{e9},=<,1"))
        #expect(e.column == 7)
    }
}
