// Exact comparison of integers of any size.
//
// Numbers are compared as f64, as the existing tool compares them. That is exact for every
// integer literal L below 2^53 in magnitude: L and L ± 1 are exact f64s and rounding is
// monotonic, so the f64 reading of any other integer lands on the same side of L as the integer
// (9007199254740993 still reads as greater than 9007199254740991). From 2^53 on, two integers
// that differ can read as the same f64 (12345678901234567890 and 12345678901234567891). A
// literal there is compiled to `IntegerLiteral`, and when the record's number is an integer
// too, in any notation (`1e20`, `100000000000000000000.0`), the two are ordered by their
// decimal digits. With a fraction on either side, the comparison stays in f64. Value filters
// with small literals, the common case, never reach this file.

/// A decimal number's text, read where it is: the value is ±0.d₁…dₙ × 10^exponent with d₁ and
/// dₙ not zero (no digits for zero). Reads JSON numbers and the language's number literals
/// (`+7`, `.5`, `5.`, `007`).
struct DecimalText {
    let base: UnsafePointer<UInt8>
    var negative = false
    /// The digits before the point, `base[intStart ..< intStart + intCount]`, and after it,
    /// from `fracStart`, make one sequence; its significant digits are `first ..< first + count`.
    var intStart = 0, intCount = 0, fracStart = 0
    var first = 0, count = 0
    var exponent = 0

    var isZero: Bool { count == 0 }
    /// No fractional part (zero included).
    var isInteger: Bool { count <= exponent || count == 0 }

    @inline(__always) func digit(_ k: Int) -> UInt8 {
        let p = first &+ k
        return p < intCount ? base[intStart &+ p] : base[fracStart &+ p &- intCount]
    }

    /// nil when `base[start ..< end]` is not a number, or when its exponent has more than 15
    /// significant digits (such a value is beyond any exact use, f64 decides).
    init?(_ base: UnsafePointer<UInt8>, start: Int, end: Int) {
        self.base = base
        var p = start
        if p < end && (base[p] == 0x2D || base[p] == 0x2B) {
            negative = base[p] == 0x2D
            p &+= 1
        }
        intStart = p
        while p < end && base[p] &- 0x30 < 10 { p &+= 1 }
        intCount = p &- intStart
        var fracCount = 0
        if p < end && base[p] == 0x2E {
            p &+= 1
            fracStart = p
            while p < end && base[p] &- 0x30 < 10 { p &+= 1 }
            fracCount = p &- fracStart
        }
        guard intCount &+ fracCount > 0 else { return nil }
        var e = 0
        if p < end && base[p] | 0x20 == 0x65 {
            p &+= 1
            var minus = false
            if p < end && (base[p] == 0x2D || base[p] == 0x2B) {
                minus = base[p] == 0x2D
                p &+= 1
            }
            let digitsStart = p
            while p < end && base[p] == 0x30 { p &+= 1 }
            let significant = p
            while p < end && base[p] &- 0x30 < 10 {
                e = e &* 10 &+ Int(base[p] &- 0x30)
                p &+= 1
            }
            guard p > digitsStart, p &- significant <= 15 else { return nil }
            if minus { e = -e }
        }
        guard p == end else { return nil }
        let total = intCount &+ fracCount
        var f = 0
        while f < total && digit(f) == 0x30 { f &+= 1 }
        guard f < total else { return }
        var l = total &- 1
        while digit(l) == 0x30 { l &-= 1 }
        first = f
        count = l &- f &+ 1
        exponent = intCount &- f &+ e
    }

    /// -1, 0 or 1 as `a` is below, equal to or above `b`, exactly.
    static func order(_ a: DecimalText, _ b: DecimalText) -> Int {
        let sa = a.isZero ? 0 : a.negative ? -1 : 1
        let sb = b.isZero ? 0 : b.negative ? -1 : 1
        if sa != sb { return sa < sb ? -1 : 1 }
        if sa == 0 { return 0 }
        var magnitude = 0
        if a.exponent != b.exponent {
            magnitude = a.exponent < b.exponent ? -1 : 1
        } else {
            let n = min(a.count, b.count)
            var k = 0
            while k < n && a.digit(k) == b.digit(k) { k &+= 1 }
            if k < n {
                magnitude = a.digit(k) < b.digit(k) ? -1 : 1
            } else if a.count != b.count {
                magnitude = a.count < b.count ? -1 : 1
            }
        }
        return sa * magnitude
    }

    /// Orders two numbers written as text: exactly when both are integers, else as f64. nil when
    /// either is not a number.
    static func order(_ a: String, _ b: String) -> Int? {
        guard let x = DSLParser.numberValue(a), let y = DSLParser.numberValue(b) else { return nil }
        var a = a, b = b
        let exact: Int?? = a.withUTF8 { ua in
            b.withUTF8 { ub in
                guard let ta = DecimalText(ua.baseAddress!, start: 0, end: ua.count),
                      let tb = DecimalText(ub.baseAddress!, start: 0, end: ub.count),
                      ta.isInteger && tb.isInteger else { return nil }
                return order(ta, tb)
            }
        }
        if let exact { return exact }
        return x < y ? -1 : x > y ? 1 : 0
    }
}

/// A number literal that is an integer of 2^53 or more in magnitude: compared exactly with
/// integers, as f64 with anything else. Immutable; its text lives as long as it does.
public final class IntegerLiteral: @unchecked Sendable, Equatable {
    /// The literal as f64, for comparisons with numbers that have a fraction.
    let approximation: Double
    private let storage: UnsafeMutableBufferPointer<UInt8>
    let number: DecimalText

    /// nil unless `text` (a number literal read as `approximation`) is such an integer.
    init?(_ text: String, approximation: Double) {
        guard approximation.magnitude >= 9_007_199_254_740_992 else { return nil }
        let bytes = Array(text.utf8)
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
        _ = storage.initialize(from: bytes)
        guard let number = DecimalText(UnsafePointer(storage.baseAddress!), start: 0, end: bytes.count), number.isInteger else {
            storage.deallocate()
            return nil
        }
        self.approximation = approximation
        self.storage = storage
        self.number = number
    }

    deinit { storage.deallocate() }

    public static func == (a: IntegerLiteral, b: IntegerLiteral) -> Bool {
        DecimalText.order(a.number, b.number) == 0
    }

    /// `value op literal` for the number at `span`.
    func compare(_ s: JSONScanner, _ span: JSONSpan, _ op: CompareOp) -> Bool {
        if let v = DecimalText(s.base, start: span.start, end: span.end), v.isInteger {
            return Condition.order(Double(DecimalText.order(v, number)), 0, op)
        }
        guard let d = s.double(span) else { return op == .ne }
        return Condition.order(d, approximation, op)
    }
}
