import Testing
@testable import StreamForgeLanguage

/// The one-pass path index: every path of a pipeline resolved in one scan, with the same answers
/// as looking each path up on its own.
@Suite struct PathIndexTests {
    /// The transformed value of the first destination that produced one, per destination.
    func values(_ destinations: [DestinationConfig], _ value: String) throws -> [String] {
        try runRecord(destinations, value: value).map { r in
            switch r {
            case .filtered: return "filtered"
            case .failed(let e): return "error:\(e.kind.rawValue)"
            case .produce(let o):
                if case .bytes(let b) = o.value { return b.map { String(decoding: $0, as: UTF8.self) } ?? "null" }
                return "unchanged"
            }
        }
    }

    @Test func pathsSharedByDestinationsAreFoundOnce() throws {
        let v = #"{"user":{"id":"u1","tier":"gold","address":{"city":"Paris"}},"order":{"id":"o1","total":5}}"#
        let d = [
            DestinationConfig(output: "a", filter: "/user/tier,==,gold", transform: "CONSTRUCT:id=/order/id:city=/user/address/city"),
            DestinationConfig(output: "b", filter: "/order/total,<,10", transform: "/user"),
            DestinationConfig(output: "c", transform: "CONSTRUCT:u=/user/id:t=/order/total:nope=/user/nope"),
        ]
        #expect(try values(d, v) == [#"{"id":"o1","city":"Paris"}"#, #"{"id":"u1","tier":"gold","address":{"city":"Paris"}}"#,
                                     #"{"u":"u1","t":5}"#])
    }

    @Test func aPathAndItsParentBothResolve() throws {
        let v = #"{"a":{"b":{"c":1,"d":[1,2]},"e":2},"f":3}"#
        let d = [DestinationConfig(output: "o", transform: "CONSTRUCT:b=/a/b:c=/a/b/c:d1=/a/b/d/1:e=/a/e:f=/f")]
        #expect(try values(d, v) == [#"{"b":{"c":1,"d":[1,2]},"c":1,"d1":2,"e":2,"f":3}"#])
    }

    @Test func namesWrittenWithEscapesMatch() throws {
        #expect(try passes("/ab,==,1", #"{"a\u0062":1}"#))
        #expect(try passes("/a~1b,==,1", #"{"x":0,"a\/b":1}"#))
        #expect(try passes("/k/q,==,2", #"{"k\"":1,"k":{"q":2}}"#))
    }

    @Test func theFirstOfDuplicateNamesWinsForEveryReader() throws {
        let d = [DestinationConfig(output: "a", filter: "/a,==,1"), DestinationConfig(output: "b", transform: "/a")]
        #expect(try values(d, #"{"a":1,"a":2}"#) == ["unchanged", "1"])
    }

    @Test func indicesAtTheRootAndInside() throws {
        #expect(try passes("/1,==,x", #"["a","x"]"#))
        #expect(try !passes("/2,==,x", #"["a","x"]"#))
        let d = [DestinationConfig(output: "o", transform: "CONSTRUCT:a=/items/1/sku:b=/items/0/sku:c=/items/5/sku:n=/items/x")]
        #expect(try values(d, #"{"items":[{"sku":"A"},{"sku":"B"}]}"#) == [#"{"a":"B","b":"A"}"#])
    }

    @Test func pathsThroughScalarsAreMissing() throws {
        #expect(try passes("/a/b,!=,1", #"{"a":1}"#))
        #expect(try passes("NOT_EXISTS:/a/b/c", #"{"a":{"b":"s"}}"#))
        #expect(try passes("/s,==,x", #""x""#) == false)
    }

    @Test func whitespaceEverywhere() throws {
        let v = " \n{ \"a\" :\t{ \"b\" : [ 1 , { \"c\" : \"x\" } ] } ,\r\n \"d\" : true } \n"
        #expect(try passes("/a/b/1/c,==,x", v))
        #expect(try passes("/d,==,true", v))
        #expect(try transformed("/a", v) == #"{"b":[1,{"c":"x"}]}"#)
    }

    @Test func brokenJSONAfterAFoundFieldFailsOnlyWhatNeedsIt() throws {
        let v = #"{"a":1,"b":[1,}"#
        let d = [
            DestinationConfig(output: "f", filter: "/a,==,1"),
            DestinationConfig(output: "m", filter: "/z,==,1"),
            DestinationConfig(output: "t", transform: "CONSTRUCT:b=/b"),
        ]
        // /a is read before the broken part; /z would be after it; /b is copied whole.
        #expect(try values(d, v) == ["unchanged", "error:malformed_json", "error:malformed_json"])
    }

    @Test func missingFieldsOfACompleteRecordAreMissingNotErrors() throws {
        let d = [DestinationConfig(output: "a", filter: "/zz,!=,1"), DestinationConfig(output: "b", filter: "EXISTS:/x/y")]
        #expect(try values(d, #"{"x":{"q":1},"w":[{"y":2}]}"#) == ["unchanged", "filtered"])
    }

    @Test func arrayConditionsReadEachElementOnce() throws {
        let v = #"{"items":[{"qty":1,"sku":"A"},{"sku":"B"},{"qty":3}],"tags":["a",{"x":1},"b"]}"#
        #expect(try passes("ARRAY_ANY:/items,/qty,>=,3", v))
        #expect(try !passes("ARRAY_ALL:/items,/qty,>=,1", v))
        #expect(try passes("ARRAY_ANY:/tags,,==,b", v))
        #expect(try passes("ARRAY_ANY:/tags,/x,==,1", v))
        guard case .failed(let e) = try run1(filter: "ARRAY_ANY:/items,/qty,>=,9", value: #"{"items":[{"qty":1},{"qty":tru}]}"#) else {
            Issue.record("a broken element was accepted"); return
        }
        #expect(e.kind == .malformedJSON)
    }
}
