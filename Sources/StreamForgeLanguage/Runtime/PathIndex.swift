// Every path a pipeline reads from the record's root, compiled at load into one trie, so a
// record is scanned once for all of them, however many conditions, transforms, envelope
// operations and destinations read it.
//
// Per record, `RecordIndex` keeps one span per trie node (on the stack, no allocation) and a
// cursor into the root container. A lookup resumes the root scan only as far as the member that
// holds its path; that member's subtree is then resolved for all the paths below it in one pass,
// stopping as soon as they are all found (the rest of a container is skipped by bracket
// counting only if a later member is needed). Nothing is scanned twice.
//
// The first member with a name wins (as for the one-path lookups).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects root-relative pointers while a pipeline's strings are compiled.
final class PathRegistry {
    struct Node {
        var key: [UInt8]
        var index: Int?
        var children: [Int] = []
        var isTarget = false
    }

    private(set) var nodes: [Node] = [Node(key: [], index: nil)]

    /// The pointer, numbered with its trie node.
    func intern(_ pointer: JSONPointer) -> JSONPointer {
        var cur = 0
        for seg in pointer.segments {
            if let c = nodes[cur].children.first(where: { nodes[$0].key == seg.key }) {
                cur = c
            } else {
                nodes.append(Node(key: seg.key, index: seg.index))
                nodes[cur].children.append(nodes.count &- 1)
                cur = nodes.count &- 1
            }
        }
        nodes[cur].isTarget = true
        var p = pointer
        p.node = Int32(cur)
        return p
    }
}

/// The compiled trie, in flat arrays read without bounds checks or reference counting.
struct PathTable {
    var nodeCount = 0
    /// Children of node n: `children[childStart[n] ..< childStart[n] + childCount[n]]`.
    var childStart: UnsafeMutablePointer<Int32>
    var childCount: UnsafeMutablePointer<Int32>
    var children: UnsafeMutablePointer<Int32>
    /// Name of node n: `keys[keyStart[n] ..< keyStart[n] + keyLength[n]]`; names of up to 8
    /// bytes also as one little-endian word (`keyWord`) with the mask of its bytes.
    var keyStart: UnsafeMutablePointer<Int32>
    var keyLength: UnsafeMutablePointer<Int32>
    var keys: UnsafeMutablePointer<UInt8>
    var keyWord: UnsafeMutablePointer<UInt64>
    var keyMask: UnsafeMutablePointer<UInt64>
    /// Array index of node n, or -1.
    var index: UnsafeMutablePointer<Int>
    /// Someone reads node n's value (its end must be known).
    var isTarget: UnsafeMutablePointer<Bool>
    /// The child of the root that node n is under (n itself for a child of the root).
    var top: UnsafeMutablePointer<Int32>
    /// Some child of node n is an array index.
    var hasIndexChild: UnsafeMutablePointer<Bool>
    /// Bit k set: some child of node n has a name of k bytes (k < 63), bit 63: a longer one. A
    /// member whose name length has no bit is skipped without comparing names.
    var childLengths: UnsafeMutablePointer<UInt64>
}

/// Owns a pipeline's path table.
final class PathIndex: @unchecked Sendable {
    /// In memory of its own, so a record's index refers to it with one pointer.
    let table: UnsafeMutablePointer<PathTable>
    var nodeCount: Int { table.pointee.nodeCount }

    init(_ registry: PathRegistry) {
        let nodes = registry.nodes
        let n = nodes.count
        let keyBytes = nodes.reduce(0) { $0 + $1.key.count }
        var t = PathTable(
            childStart: .allocate(capacity: n), childCount: .allocate(capacity: n), children: .allocate(capacity: n),
            keyStart: .allocate(capacity: n), keyLength: .allocate(capacity: n), keys: .allocate(capacity: max(1, keyBytes)),
            keyWord: .allocate(capacity: n), keyMask: .allocate(capacity: n), index: .allocate(capacity: n),
            isTarget: .allocate(capacity: n), top: .allocate(capacity: n), hasIndexChild: .allocate(capacity: n),
            childLengths: .allocate(capacity: n))
        t.nodeCount = n
        var c = 0, k = 0
        for (i, node) in nodes.enumerated() {
            t.childStart[i] = Int32(c)
            t.childCount[i] = Int32(node.children.count)
            for ch in node.children { t.children[c] = Int32(ch); c &+= 1 }
            t.keyStart[i] = Int32(k)
            t.keyLength[i] = Int32(node.key.count)
            var word: UInt64 = 0
            for (j, b) in node.key.enumerated() where j < 8 { word |= UInt64(b) << (8 * UInt64(j)) }
            t.keyWord[i] = word
            t.keyMask[i] = node.key.count >= 8 ? ~0 : (UInt64(1) << (8 * UInt64(node.key.count))) &- 1
            for b in node.key { t.keys[k] = b; k &+= 1 }
            t.index[i] = node.index ?? -1
            t.isTarget[i] = node.isTarget
            t.hasIndexChild[i] = node.children.contains { nodes[$0].index != nil }
            t.childLengths[i] = node.children.reduce(0) { $0 | UInt64(1) << UInt64(min(nodes[$1].key.count, 63)) }
        }
        t.top[0] = 0
        func mark(_ n: Int, _ top: Int) {
            t.top[n] = Int32(top)
            for ch in nodes[n].children { mark(ch, top) }
        }
        for ch in nodes[0].children { mark(ch, ch) }
        table = .allocate(capacity: 1)
        table.initialize(to: t)
    }

    static let empty = PathIndex(PathRegistry())
    nonisolated(unsafe) static let emptySpans: UnsafeMutablePointer<JSONSpan> = {
        let p = UnsafeMutablePointer<JSONSpan>.allocate(capacity: 1)
        p.initialize(to: JSONSpan(start: -1, end: -1))
        return p
    }()

    deinit {
        let t = table.pointee
        t.childStart.deallocate(); t.childCount.deallocate(); t.children.deallocate()
        t.keyStart.deallocate(); t.keyLength.deallocate(); t.keys.deallocate()
        t.keyWord.deallocate(); t.keyMask.deallocate()
        t.index.deallocate(); t.isTarget.deallocate(); t.top.deallocate(); t.hasIndexChild.deallocate(); t.childLengths.deallocate()
        table.deinitialize(count: 1)
        table.deallocate()
    }
}

/// Per-record state of the index: a span per trie node. `start == -1`: not reached yet;
/// `start >= 0, end == -1`: matched, but the scan stopped inside it (no one reads its end).
struct RecordIndex {
    let table: UnsafePointer<PathTable>
    @inline(__always) var paths: PathTable { table.pointee }
    let spans: UnsafeMutablePointer<JSONSpan>
    /// Start of the next member or element of the root container.
    var rootPos = -1
    var rootIsArray = false
    var rootElement = 0
    var rootPending = 0
    var rootDone = false
    var failed = false
    /// The child of the root whose subtree the scan failed in, or -1.
    var failedTop: Int32 = -1

    @inline(__always)
    init(resetting spans: UnsafeMutablePointer<JSONSpan>, paths: UnsafePointer<PathTable>) {
        self.table = paths
        self.spans = spans
        // Every span to (-1, -1): all bits set.
        let n = paths.pointee.nodeCount
        if n <= 8 {
            for k in 0..<n { spans[k] = JSONSpan(start: -1, end: -1) }
        } else {
            memset(spans, 0xFF, n &* MemoryLayout<JSONSpan>.stride)
        }
        rootPending = Int(paths.pointee.childCount[0])
    }

    /// An index of no paths, for contexts that only use the JSON writers.
    static var inert: RecordIndex {
        RecordIndex(paths: UnsafePointer(PathIndex.empty.table), spans: PathIndex.emptySpans)
    }

    private init(paths: UnsafePointer<PathTable>, spans: UnsafeMutablePointer<JSONSpan>) {
        self.table = paths
        self.spans = spans
        rootDone = true
    }

    enum Lookup { case found(JSONSpan), missing, malformed }

    /// The value at trie node `node` (not the root).
    @inline(__always)
    mutating func lookup(_ node: Int, root: JSONSpan, _ s: JSONScanner) -> Lookup {
        let sp = spans[node]
        if sp.end >= 0 { return .found(sp) }
        return slowLookup(node, root: root, s)
    }

    mutating func slowLookup(_ node: Int, root: JSONSpan, _ s: JSONScanner) -> Lookup {
        let top = Int(table.pointee.top[node])
        if spans[top].start == -1 && !rootDone {
            if rootPos < 0 { startRoot(root, s) }
            if !rootDone {
                if rootIsArray {
                    while spans[top].start == -1 && !rootDone { stepRoot(root, s) }
                } else {
                    scanRootObject(until: top, s)
                }
            }
        }
        let sp = spans[node]
        if sp.end >= 0 { return .found(sp) }
        if spans[top].start >= 0 { return failedTop == Int32(top) ? .malformed : .missing }
        return failed ? .malformed : .missing
    }

    mutating func fail() {
        failed = true
        rootDone = true
    }

    /// Scans members of the root object from `rootPos` until the child of the root `top` has
    /// been reached (or the object ends): the same steps as `stepRoot`, in one loop with the
    /// state in locals, the names of members no path wants rejected by their length alone.
    mutating func scanRootObject(until top: Int, _ s: JSONScanner) {
        let t = table
        let lengths = t.pointee.childLengths[0]
        let base = s.base, count = s.count
        var q = rootPos
        var pending = rootPending
        while true {
            guard q < count, base[q] == 0x22 else { rootPending = pending; return fail() }
            var escaped = false
            let ke = s.fastKeyEnd(q, escaped: &escaped)
            guard ke >= 0 else { rootPending = pending; return fail() }
            let len = ke &- q &- 2
            let child = escaped || lengths & (UInt64(1) << UInt64(min(len, 63))) != 0
                ? matchName(0, s, q &+ 1, ke &- 1, escaped) : -1
            q = ke
            if q >= count || base[q] != 0x3A {
                q = s.ws(q)
                guard q < count, base[q] == 0x3A else { rootPending = pending; return fail() }
            }
            q = s.ws(q &+ 1)
            var ve: Int
            if child >= 0 {
                let e: Int, open: Int
                if t.pointee.childCount[child] == 0 {
                    // A leaf: only its end is needed.
                    e = s.fastSkipValue(q)
                    open = 0
                    if e >= 0 { spans[child] = JSONSpan(start: q, end: e) }
                } else {
                    (e, open) = resolve(child, at: q, s)
                }
                if e < 0 {
                    if spans[child].start < 0 { spans[child].start = q }
                    failedTop = Int32(child)
                    rootPending = pending
                    return fail()
                }
                pending &-= 1
                if pending == 0 { rootPending = 0; rootDone = true; return }
                ve = open > 0 ? s.fastSkipOpen(e, depth: open) : e
            } else {
                ve = s.fastSkipValue(q)
            }
            guard ve >= 0 else { rootPending = pending; return fail() }
            q = ve
            if q >= count || base[q] > 0x20 {} else { q = s.ws(q) }
            guard q < count else { rootPending = pending; return fail() }
            if base[q] == 0x2C {
                q = s.ws(q &+ 1)
                if child == top {
                    rootPos = q
                    rootPending = pending
                    return
                }
            } else if base[q] == 0x7D {
                rootPending = pending
                rootDone = true
                return
            } else {
                rootPending = pending
                return fail()
            }
        }
    }

    /// Opens the root container: `rootPos` at its first member or element, or done.
    mutating func startRoot(_ root: JSONSpan, _ s: JSONScanner) {
        let b = s.base[root.start]
        guard b == 0x7B || b == 0x5B, rootPending > 0 else { rootDone = true; return }
        rootIsArray = b == 0x5B
        let q = s.ws(root.start &+ 1)
        guard q < s.count else { return fail() }
        if s.base[q] == (rootIsArray ? 0x5D : 0x7D) { rootDone = true; return }
        rootPos = q
    }

    /// Reads one member (or element) of the root container.
    mutating func stepRoot(_ root: JSONSpan, _ s: JSONScanner) {
        if rootPos < 0 {
            startRoot(root, s)
            if rootDone { return }
        }
        var q = rootPos
        let child: Int
        if rootIsArray {
            child = matchIndex(0, rootElement)
            rootElement &+= 1
        } else {
            guard q < s.count, s.base[q] == 0x22 else { return fail() }
            var escaped = false
            let ke = s.fastKeyEnd(q, escaped: &escaped)
            guard ke >= 0 else { return fail() }
            child = escaped || paths.childLengths[0] & (UInt64(1) << UInt64(min(ke &- q &- 2, 63))) != 0
                ? matchName(0, s, q &+ 1, ke &- 1, escaped) : -1
            q = s.ws(ke)
            guard q < s.count, s.base[q] == 0x3A else { return fail() }
            q = s.ws(q &+ 1)
        }
        var ve: Int
        if child >= 0 {
            let (e, open) = resolve(child, at: q, s)
            if e < 0 {
                if spans[child].start < 0 { spans[child].start = q }
                failedTop = Int32(child)
                return fail()
            }
            rootPending &-= 1
            if rootPending == 0 { rootDone = true; return }
            ve = open > 0 ? s.fastSkipOpen(e, depth: open) : e
        } else {
            ve = q < s.count && s.base[q] == 0x22 ? s.fastStringEnd(q) : s.fastValueEnd(q)
        }
        guard ve >= 0 else { return fail() }
        q = s.ws(ve)
        guard q < s.count else { return fail() }
        if s.base[q] == 0x2C {
            rootPos = s.ws(q &+ 1)
        } else if s.base[q] == (rootIsArray ? 0x5D : 0x7D) {
            rootDone = true
        } else {
            fail()
        }
    }

    /// The unmatched child of `node` named by the key at `[ks, ke)`, or -1.
    @inline(__always)
    func matchName(_ node: Int, _ s: JSONScanner, _ ks: Int, _ ke: Int, _ escaped: Bool) -> Int {
        let p = table
        let first = Int(p.pointee.childStart[node]), n = Int(p.pointee.childCount[node])
        let len = ke &- ks
        // The name's first eight bytes as one word (the closing quote and what follows are
        // masked off); most names are decided by this one compare.
        let word: UInt64 = ks &+ 8 <= s.count ? s.load8(ks) : 0
        for k in first..<first &+ n {
            let c = Int(p.pointee.children[k])
            guard spans[c].start == -1 else { continue }
            let cl = Int(p.pointee.keyLength[c])
            if cl == len {
                if len <= 8 && ks &+ 8 <= s.count {
                    if word & p.pointee.keyMask[c] == p.pointee.keyWord[c] { return c }
                } else if len == 0 || memcmp(s.base + ks, p.pointee.keys + Int(p.pointee.keyStart[c]), len) == 0 {
                    return c
                }
            }
            if escaped {
                let decoded = s.decodeStringBytes(start: ks, end: ke)
                if decoded.count == cl && decoded.withUnsafeBufferPointer({ cl == 0 || memcmp($0.baseAddress!, p.pointee.keys + Int(p.pointee.keyStart[c]), cl) == 0 }) {
                    return c
                }
            }
        }
        return -1
    }

    @inline(__always)
    func matchIndex(_ node: Int, _ i: Int) -> Int {
        let p = paths
        let first = Int(p.childStart[node]), n = Int(p.childCount[node])
        for k in first..<first &+ n {
            let c = Int(p.children[k])
            if p.index[c] == i && spans[c].start == -1 { return c }
        }
        return -1
    }

    /// Resolves the paths below `node`, whose value starts at `i`. Returns the index after the
    /// value with `open == 0`, or, when everything below a non-target node was found early, a
    /// position `open` containers deep inside it; -1 when the text is not JSON.
    mutating func resolve(_ node: Int, at i: Int, _ s: JSONScanner) -> (Int, Int) {
        let p = paths
        let n = Int(p.childCount[node])
        guard i < s.count else { return (-1, 0) }
        let b = s.base[i]
        if n == 0 || !(b == 0x7B || (b == 0x5B && p.hasIndexChild[node])) {
            let e = s.fastValueEnd(i)
            if e >= 0 { spans[node] = JSONSpan(start: i, end: e) }
            return (e, 0)
        }
        spans[node] = JSONSpan(start: i, end: -1)
        let isArray = b == 0x5B
        let close: UInt8 = isArray ? 0x5D : 0x7D
        let target = p.isTarget[node]
        var pending = n
        var element = 0
        var q = s.ws(i &+ 1)
        guard q < s.count else { return (-1, 0) }
        if s.base[q] == close {
            spans[node].end = q &+ 1
            return (q &+ 1, 0)
        }
        while true {
            let child: Int
            if isArray {
                child = matchIndex(node, element)
                element &+= 1
            } else {
                guard q < s.count, s.base[q] == 0x22 else { return (-1, 0) }
                var escaped = false
                let ke = s.fastKeyEnd(q, escaped: &escaped)
                guard ke >= 0 else { return (-1, 0) }
                child = escaped || p.childLengths[node] & (UInt64(1) << UInt64(min(ke &- q &- 2, 63))) != 0
                    ? matchName(node, s, q &+ 1, ke &- 1, escaped) : -1
                q = s.ws(ke)
                guard q < s.count, s.base[q] == 0x3A else { return (-1, 0) }
                q = s.ws(q &+ 1)
            }
            var ve: Int
            if child >= 0 {
                let e: Int, open: Int
                if p.childCount[child] == 0 {
                    // A leaf: only its end is needed.
                    e = s.fastSkipValue(q)
                    open = 0
                    if e >= 0 { spans[child] = JSONSpan(start: q, end: e) }
                } else {
                    (e, open) = resolve(child, at: q, s)
                }
                guard e >= 0 else { return (-1, 0) }
                pending &-= 1
                if pending == 0 && !target { return open > 0 ? (e, open &+ 1) : (e, 1) }
                ve = open > 0 ? s.fastSkipOpen(e, depth: open) : e
            } else {
                ve = s.fastSkipValue(q)
            }
            guard ve >= 0 else { return (-1, 0) }
            q = s.ws(ve)
            guard q < s.count else { return (-1, 0) }
            if s.base[q] == 0x2C {
                q = s.ws(q &+ 1)
                if pending == 0 {
                    // A target: only its end is still needed.
                    let e = s.fastSkipOpen(q, depth: 1)
                    if e >= 0 { spans[node].end = e }
                    return (e, 0)
                }
            } else if s.base[q] == close {
                spans[node].end = q &+ 1
                return (q &+ 1, 0)
            } else {
                return (-1, 0)
            }
        }
    }
}
