import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

/// Each filter's decision on `value`, through the filter-only fast path and through the general
/// evaluator, which must agree (a failed record throws its error).
func decisions(_ filters: [String], _ value: String, headers: [(String, String?)] = []) throws -> [Bool] {
    let routing = RoutingConfig(destinations: filters.enumerated().map { DestinationConfig(output: "o\($0.offset)", filter: $0.element) })
    var general = Pipeline.Options()
    general.fastPath = false
    let fast = try Pipeline(routing: routing), slow = try Pipeline(routing: routing, options: general)
    #expect(fast.fastFilters != nil)
    var rec = try DryRunRecord(line: "{\"value_raw\":\"\"}")
    rec.value = Array(value.utf8)
    rec.headers = headers.map { ($0.0, $0.1.map { Array($0.utf8) }) }
    let a = rec.withInputRecord { fast.process($0) }, b = rec.withInputRecord { slow.process($0) }
    #expect(a == b, "\(filters) on \(value)")
    return try a.map { r in
        switch r {
        case .produce: return true
        case .filtered: return false
        case .failed(let e): throw e
        }
    }
}

func decision(_ filter: String, _ value: String, headers: [(String, String?)] = []) throws -> Bool {
    try decisions([filter], value, headers: headers)[0]
}

@Suite struct NumberComparisonTests {
    /// Issue 10: 12345678901234567890 and 12345678901234567891 are the same f64.
    @Test func integersBeyondTwoToThe53CompareExactly() throws {
        let v = #"{"big":12345678901234567891}"#
        #expect(try !decision("/big,==,12345678901234567890", v))
        #expect(try decision("/big,!=,12345678901234567890", v))
        #expect(try decision("/big,>,12345678901234567890", v))
        #expect(try decision("/big,>=,12345678901234567890", v))
        #expect(try !decision("/big,<,12345678901234567890", v))
        #expect(try !decision("/big,<=,12345678901234567890", v))
        #expect(try decision("/big,==,12345678901234567891", v))
        #expect(try decision("/big,<,12345678901234567892", v))
    }

    /// Pairs one apart, which f64 reads as the same number or not at all apart.
    @Test(arguments: [
        ("9007199254740992", "9007199254740993"),           // 2^53, 2^53 + 1
        ("9007199254740993", "9007199254740994"),
        ("9223372036854775807", "9223372036854775808"),     // Int64.max, 2^63
        ("18446744073709551615", "18446744073709551616"),   // UInt64.max, 2^64
        ("18446744073709551616", "18446744073709551617"),
        ("-9223372036854775809", "-9223372036854775808"),   // below Int64.min, Int64.min
        ("-12345678901234567891", "-12345678901234567890"),
        ("99999999999999999999999999999999999999999", "100000000000000000000000000000000000000000"),
    ])
    func neighbouringIntegersOrderExactlyEitherWay(lower: String, higher: String) throws {
        for (value, literal, below) in [(lower, higher, true), (higher, lower, false)] {
            let got = try decisions(["/n,==,\(literal)", "/n,!=,\(literal)", "/n,<,\(literal)", "/n,<=,\(literal)",
                                     "/n,>,\(literal)", "/n,>=,\(literal)"], "{\"n\":\(value)}")
            #expect(got == [false, true, below, below, !below, !below], "\(value) against \(literal)")
            #expect(try decisions(["/n,==,\(value)", "/n,<=,\(value)", "/n,>=,\(value)"], "{\"n\":\(value)}") == [true, true, true])
        }
    }

    /// Below 2^53 an integer literal is an exact f64, and the f64 reading of any integer record
    /// value never meets or crosses it: these keep the plain f64 path.
    @Test func literalsBelowTwoToThe53StayOnTheFloatingPointPath() throws {
        for (text, big) in [("9007199254740991", false), ("-9007199254740991", false), ("12.5", false), ("1e15", false),
                            ("9007199254740992", true), ("-9007199254740992", true), ("1e20", true)] {
            var parser = DSLParser("/n,==,\(text)")
            guard case .compare(let c) = try parser.parseFilter() else { Issue.record("not a comparison"); continue }
            if case .bigInteger = c.literal { #expect(big, "\(text)") } else { #expect(!big, "\(text)") }
        }
        #expect(try decision("/n,>,9007199254740991", #"{"n":9007199254740992}"#))
        #expect(try decision("/n,>,9007199254740991", #"{"n":9007199254740993}"#))
        #expect(try !decision("/n,==,9007199254740991", #"{"n":9007199254740993}"#))
        #expect(try decision("/n,<,-9007199254740991", #"{"n":-9007199254740993}"#))
        #expect(try decision("/n,>,5", #"{"n":12345678901234567891}"#))
    }

    @Test func integersCompareByValueWhateverTheirNotation() throws {
        for written in ["100000000000000000000", "1e20", "1E+20", "1.0e20", "10e19", "0.1e21", "100000000000000000000.000",
                        "1e020", "1000000000000000000000e-1"] {
            let got = try decisions(["/n,==,100000000000000000000", "/n,==,1e20", "/n,!=,100000000000000000001",
                                     "/n,<,100000000000000000001", "/n,>,99999999999999999999"], "{\"n\":\(written)}")
            #expect(got == [true, true, true, true, true], "\(written)")
        }
        // The same f64, not the same integer.
        #expect(try !decision("/n,==,1e20", #"{"n":100000000000000000001}"#))
        #expect(try decision("/n,>,1e20", #"{"n":100000000000000000001}"#))
        #expect(try decision("/n,==,1.2345678901234567891e19", #"{"n":12345678901234567891}"#))
        #expect(try !decision("/n,==,1.2345678901234567891e19", #"{"n":12345678901234567890}"#))
    }

    /// Past f64's range both read as infinity.
    @Test func integersOfAnySizeCompareExactly() throws {
        let power = "1" + String(repeating: "0", count: 399), next = "1" + String(repeating: "0", count: 398) + "1"
        #expect(try !decision("/n,==,\(power)", "{\"n\":\(next)}"))
        #expect(try decision("/n,<,\(next)", "{\"n\":\(power)}"))
        #expect(try decision("/n,==,1e399", "{\"n\":\(power)}"))
        #expect(try decision("/n,>,-1e399", "{\"n\":-\(next)}") == false)
    }

    @Test func literalSignsAndLeadingZerosReadAsTheSameInteger() throws {
        let v = #"{"n":12345678901234567890}"#
        #expect(try decisions(["/n,==,+12345678901234567890", "/n,==,0012345678901234567890", "/n,==,12345678901234567890."], v)
                == [true, true, true])
        #expect(try !decision("/n,==,0012345678901234567891", v))
    }

    /// Record values are JSON: `-0` is zero, and a leading zero makes the record malformed
    /// rather than a number that matches.
    @Test func recordNumbersFollowJSONRules() throws {
        #expect(try decisions(["/n,==,0", "/n,<,0", "/n,<,12345678901234567890", "/n,>,-12345678901234567890"], #"{"n":-0}"#)
                == [true, false, true, true])
        #expect(try decision("/n,==,-0", #"{"n":0}"#))
        for value in [#"{"n":012345678901234567890}"#, #"{"n":-012345678901234567890}"#, #"{"n":01}"#] {
            do {
                _ = try decision("/n,==,12345678901234567890", value)
                Issue.record("\(value) passed or was filtered")
            } catch {
                #expect((error as? RecordError)?.kind == .malformedJSON, "\(value)")
            }
        }
    }

    /// With a fraction on either side, numbers compare as f64, as the existing tool compares them.
    @Test func comparisonWithAFractionStaysFloatingPoint() throws {
        #expect(try decision("/n,>,0.5", #"{"n":12345678901234567891}"#))
        // 12345678901234567890.5, 12345678901234567890 and 12345678901234567891 are one f64.
        #expect(try decision("/n,==,12345678901234567890", #"{"n":12345678901234567890.5}"#))
        #expect(try decision("/n,==,12345678901234567890.5", #"{"n":12345678901234567891}"#))
        #expect(try !decision("/n,==,12345678901234567890", #"{"n":12345678901234567891}"#))
    }

    @Test func arrayConditionsCompareBigIntegersExactly() throws {
        let v = #"{"ids":[12345678901234567891,12345678901234567892]}"#
        #expect(try decisions(["ARRAY_ANY:/ids,,==,12345678901234567890", "ARRAY_ANY:/ids,,==,12345678901234567892",
                               "ARRAY_ALL:/ids,,>,12345678901234567890", "ARRAY_ALL:/ids,,>,12345678901234567891"], v)
                == [false, true, true, false])
    }

    @Test func headerOrderingComparesBigIntegersExactly() throws {
        let h: [(String, String?)] = [("x-id", "12345678901234567891")]
        #expect(try decisions(["HEADER:x-id,>,12345678901234567890", "HEADER:x-id,<=,12345678901234567890",
                               "HEADER:x-id,>=,1.2345678901234567891e19", "HEADER:x-id,>,1.2345678901234567891e19",
                               "HEADER:x-id,>,12345678901234567890.5"], "{}", headers: h)
                == [true, false, true, false, false])
    }

    /// Random integers of 16 to 40 digits in several notations, against literals that differ in
    /// one digit, in length or in sign: every operator says what the digits say.
    @Test func randomBigIntegersOrderLikeTheirDigits() throws {
        var rng = SeededRandom(seed: 0x1010)
        func digits(_ n: Int) -> String {
            String(Int.random(in: 1...9, using: &rng)) + String((1..<n).map { _ in "0123456789".randomElement(using: &rng)! })
        }
        func written(_ negative: Bool, _ d: String) -> String {
            let sign = negative ? "-" : ""
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return sign + d + ".000"
            case 1: return sign + String(d.prefix(1)) + "." + String(d.dropFirst()) + "e+" + String(d.count - 1)
            case 2: return sign + "0." + d + "E" + String(d.count)
            default: return sign + d
            }
        }
        /// -1, 0, 1 for canonical digit strings (no leading zeros, not zero).
        func order(_ a: (Bool, String), _ b: (Bool, String)) -> Int {
            if a.0 != b.0 { return a.0 ? -1 : 1 }
            let m = a.1.count != b.1.count ? (a.1.count < b.1.count ? -1 : 1) : (a.1 == b.1 ? 0 : a.1 < b.1 ? -1 : 1)
            return a.0 ? -m : m
        }
        for _ in 0..<300 {
            let a = (Bool.random(using: &rng), digits(Int.random(in: 16...40, using: &rng)))
            var b = a
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: b.1 = a.1 + "0"
            case 1: b.0.toggle()
            case 2: b = a
            default:
                var chars = Array(a.1)
                let at = Int.random(in: max(1, chars.count - 3)..<chars.count, using: &rng)
                chars[at] = "0123456789".randomElement(using: &rng)!
                b.1 = String(chars)
            }
            let literal = written(b.0, b.1)
            let o = order(a, b)
            let got = try decisions(["/n,==,\(literal)", "/n,!=,\(literal)", "/n,<,\(literal)", "/n,<=,\(literal)",
                                     "/n,>,\(literal)", "/n,>=,\(literal)"], "{\"n\":\(written(a.0, a.1))}")
            #expect(got == [o == 0, o != 0, o < 0, o <= 0, o > 0, o >= 0], "\(a) against \(literal)")
        }
    }
}
