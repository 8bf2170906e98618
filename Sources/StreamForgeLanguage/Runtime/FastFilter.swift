// Filters flattened at load into one array of plain nodes (preorder, each with the size of its
// subtree), evaluated per record without reference counting: the common conditions (compare,
// AND/OR/NOT, EXISTS) are read straight from unmanaged memory. Everything else (REGEX,
// ARRAY_*, key, header and timestamp tests, paths outside the index) is handed to the
// `Condition` evaluator, with the same result. The compare kinds are flattened and evaluated by
// Operators/Compare.swift (inlined here).

struct FilterNode {
    enum Kind: UInt8 {
        case compareString, compareNumber, compareBool, compareNull
        case and, or, not, exists, notExists
        case other
    }
    var kind: Kind
    var op: CompareOp
    var bool: Bool = false
    /// The path's index node (> 0).
    var node: Int32 = 0
    /// Nodes in this subtree, itself included.
    var size: Int32 = 1
    var number: Double = 0
    /// A string literal's bytes (owned by the program).
    var bytes: UnsafePointer<UInt8>? = nil
    var length: Int = 0
    /// A string literal of up to 8 bytes as one little-endian word, and the mask of its bytes.
    var word: UInt64 = 0
    var mask: UInt64 = 0
    /// `other`: the index of the condition in `FilterProgram.others`.
    var other: Int = 0
}

/// One destination's filter, flattened. Immutable after init; freed with the pipeline. Its
/// `code` is what is evaluated per record (plain pointers, copied without reference counting).
final class FilterProgram: @unchecked Sendable {
    let code: FilterCode
    let count: Int
    let otherCount: Int
    private var literals: [UnsafeMutableBufferPointer<UInt8>] = []

    init(_ condition: Condition) {
        var list: [FilterNode] = []
        var others: [Condition] = []
        var literals: [UnsafeMutableBufferPointer<UInt8>] = []
        func add(_ c: Condition) {
            let at = list.count
            switch c {
            case .compare(let cmp) where cmp.path.node > 0:
                if let n = FilterNode.comparison(cmp, literals: &literals) {
                    list.append(n)
                } else {
                    // Rare (a big integer): compared exactly by the general evaluator.
                    list.append(FilterNode(kind: .other, op: .eq, other: others.count))
                    others.append(c)
                }
            case .and(let cs), .or(let cs):
                var isAnd = false
                if case .and = c { isAnd = true }
                list.append(FilterNode(kind: isAnd ? .and : .or, op: .eq))
                for x in cs { add(x) }
                list[at].size = Int32(list.count - at)
            case .not(let x):
                list.append(FilterNode(kind: .not, op: .eq))
                add(x)
                list[at].size = Int32(list.count - at)
            case .exists(let p) where p.node > 0:
                list.append(FilterNode(kind: .exists, op: .eq, node: p.node))
            case .notExists(let p) where p.node > 0:
                list.append(FilterNode(kind: .notExists, op: .eq, node: p.node))
            default:
                list.append(FilterNode(kind: .other, op: .eq, other: others.count))
                others.append(c)
            }
        }
        add(condition)
        count = list.count
        let nodes = UnsafeMutablePointer<FilterNode>.allocate(capacity: list.count)
        nodes.initialize(from: list, count: list.count)
        otherCount = others.count
        let otherStorage = UnsafeMutablePointer<Condition>.allocate(capacity: max(1, others.count))
        otherStorage.initialize(from: others, count: others.count)
        code = FilterCode(nodes: nodes, others: otherStorage)
        self.literals = literals
    }

    deinit {
        code.nodes.deinitialize(count: count)
        code.nodes.deallocate()
        code.others.deinitialize(count: otherCount)
        code.others.deallocate()
        for l in literals { l.deallocate() }
    }
}

struct FilterCode {
    let nodes: UnsafeMutablePointer<FilterNode>
    let others: UnsafeMutablePointer<Condition>

    @inline(__always)
    func evaluate(_ ctx: inout EvalContext) throws(RecordError) -> Bool {
        try evaluate(0, &ctx)
    }

    func evaluate(_ i: Int, _ ctx: inout EvalContext) throws(RecordError) -> Bool {
        let n = nodes[i]
        switch n.kind {
        case .compareString:
            return try FilterCode.compareString(n, &ctx)
        case .compareNumber:
            return try FilterCode.compareNumber(n, &ctx)
        case .compareBool:
            return try FilterCode.compareBool(n, &ctx)
        case .compareNull:
            return try FilterCode.compareNull(n, &ctx)
        case .and:
            var k = i &+ 1
            let end = i &+ Int(n.size)
            while k < end {
                if !(try evaluate(k, &ctx)) { return false }
                k &+= Int(nodes[k].size)
            }
            return true
        case .or:
            var k = i &+ 1
            let end = i &+ Int(n.size)
            while k < end {
                if try evaluate(k, &ctx) { return true }
                k &+= Int(nodes[k].size)
            }
            return false
        case .not:
            return !(try evaluate(i &+ 1, &ctx))
        case .exists:
            return try ctx.lookup(node: n.node) != nil
        case .notExists:
            return try ctx.lookup(node: n.node) == nil
        case .other:
            return try others[n.other].evaluate(&ctx)
        }
    }
}
