// A routing configuration compiled once at load: every destination's filter, transforms and
// envelope operations, plus content routing. `process` runs one record through all of them.

/// One problem found while compiling the language strings of a configuration.
public struct DSLCompileError: Sendable, Equatable, CustomStringConvertible {
    /// Index in `routing.destinations`, or nil for a routing-level key (`path`).
    public var destinationIndex: Int?
    /// The key as written: `filter`, `transform`, `key_transform`, `timestamp`, `partition`,
    /// `header_transforms[1].operation`, `path`.
    public var key: String
    /// The string as written.
    public var source: String
    /// 1-based column (in characters) inside `source`.
    public var column: Int
    public var message: String
    public var hint: String?
    /// `source` and a caret line under the column.
    public var caret: String

    /// `routing.destinations[2].filter`
    public var keyPath: String {
        destinationIndex.map { "routing.destinations[\($0)].\(key)" } ?? "routing.\(key)"
    }

    public var description: String {
        var s = "\(keyPath): column \(column): \(message)\n" + caret.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        if let hint { s += "\n    hint: \(hint)" }
        return s
    }
}

public struct DSLCompileErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [DSLCompileError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Compiles single language strings (for tools and tests).
public enum DSL {
    /// Checks a filter string; nil when it is valid.
    public static func checkFilter(_ s: String) -> DSLError? {
        var p = DSLParser(s)
        do { _ = try p.parseFilter(); return nil } catch { return error }
    }

    public static func checkTransform(_ s: String) -> DSLError? {
        var p = DSLParser(s, caches: CacheRegistry())
        do { _ = try p.parseTransform(); return nil } catch { return error }
    }
}

final class CompiledDestination: Sendable {
    enum Partition: Sendable { case keyHash, preserve, field(JSONPointer) }

    let index: Int
    let output: String
    let outputIsTemplate: Bool
    let filter: Condition?
    /// The filter flattened for the per-record fast path.
    let filterProgram: FilterProgram?
    let transform: ValueTransform?
    let key: KeyTransform?
    let staticHeaders: [(name: String, value: [UInt8])]
    let headerOps: [(name: String, op: HeaderOperation)]
    let timestamp: TimestampTransform
    let partition: Partition
    let errorPolicy: ErrorPolicy
    let matchValue: String?
    /// `matchValue` as bytes, compared with the routing field per record; nil for none and for
    /// the default route `"*"` (`isDefaultRoute`).
    let matchBytes: [UInt8]?
    let isDefaultRoute: Bool
    /// Something here reads or rewrites the value.
    let readsValue: Bool
    /// What the destination produces when it takes a record and changes nothing of it (no
    /// transform or envelope operation, a fixed topic): built once, handed out per record.
    let passThrough: OutputRecord?

    init(index: Int, output: String, outputIsTemplate: Bool, filter: Condition?, transform: ValueTransform?,
         key: KeyTransform?, staticHeaders: [(name: String, value: [UInt8])], headerOps: [(name: String, op: HeaderOperation)],
         timestamp: TimestampTransform, partition: Partition, errorPolicy: ErrorPolicy, matchValue: String?, readsValue: Bool) {
        self.index = index
        self.output = output
        self.outputIsTemplate = outputIsTemplate
        self.filter = filter
        self.filterProgram = filter.map { FilterProgram($0) }
        self.transform = transform
        self.key = key
        self.staticHeaders = staticHeaders
        self.headerOps = headerOps
        self.timestamp = timestamp
        self.partition = partition
        self.errorPolicy = errorPolicy
        self.matchValue = matchValue
        self.isDefaultRoute = matchValue == "*"
        self.matchBytes = matchValue == "*" ? nil : matchValue.map { Array($0.utf8) }
        self.readsValue = readsValue
        var fixedPartition: PartitionChoice?
        switch partition {
        case .keyHash: fixedPartition = .keyHash
        case .preserve: fixedPartition = .preserve
        case .field: fixedPartition = nil
        }
        var unchanged = transform == nil && key == nil && staticHeaders.isEmpty && headerOps.isEmpty && !outputIsTemplate
        if case .preserve = timestamp {} else { unchanged = false }
        if unchanged, let fixedPartition {
            passThrough = OutputRecord(topic: output, key: .unchanged, value: .unchanged, headers: .unchanged,
                                       timestamp: nil, partition: fixedPartition)
        } else {
            passThrough = nil
        }
    }
}

public final class Pipeline: Sendable {
    public struct Options: Sendable {
        /// Before the original value bytes are forwarded unchanged by a destination that read
        /// them (a filter), check that the whole value is well-formed JSON (once per record).
        /// Off (the default): such a destination forwards the bytes as a pure mirror would, and
        /// only the parts it read are checked. Values a destination builds are always checked
        /// (see docs/dsl.md, "Errors per record").
        public var checkForwardedJSON: Bool
        /// Use the filter-only fast path where it applies (tests turn it off to compare).
        var fastPath = true
        public init(checkForwardedJSON: Bool = false) { self.checkForwardedJSON = checkForwardedJSON }
    }

    let destinations: [CompiledDestination]
    let contentPath: JSONPointer?
    let options: Options
    let caches = CacheRegistry()
    /// Every path read from the root of a record, resolved once per record for all readers.
    let paths: PathIndex

    /// False when no destination reads or rewrites the value (a pure mirror): the worker can
    /// pass every record through without looking at it.
    public let needsPayload: Bool
    /// The error policy of each destination, in order.
    public let errorPolicies: [ErrorPolicy]
    public var destinationCount: Int { destinations.count }

    /// The fast path, when every destination only filters (no content routing, no whole-value
    /// check, at most `fastLimit` destinations): each destination's flattened filter, or nil
    /// when it takes every record; and the results of every combination of destinations that
    /// take a record (bit i: destination i), built once. A record then costs its filters and
    /// one array assignment.
    nonisolated(unsafe) let fastFilters: UnsafeMutablePointer<FilterCode?>?
    let fastResults: [[DestinationResult]]
    static let fastLimit = 6

    public convenience init(routing: RoutingConfig) throws(DSLCompileErrors) {
        try self.init(routing: routing, options: Options())
    }

    public init(routing: RoutingConfig, options: Options) throws(DSLCompileErrors) {
        var errors: [DSLCompileError] = []
        func record(_ e: DSLError, _ index: Int?, _ key: String, _ source: String) {
            errors.append(DSLCompileError(destinationIndex: index, key: key, source: source, column: e.column(in: source),
                                          message: e.message, hint: e.hint, caret: e.caret(in: source)))
        }
        let paths = PathRegistry()
        var content: JSONPointer?
        if routing.routingType == .content, let path = routing.path {
            switch JSONPointer.parse(path) {
            case .success(let p): content = paths.intern(p)
            case .failure(let e): record(DSLError(offset: e.offset, message: e.message), nil, "path", path)
            }
        }
        let registry = caches
        var compiled: [CompiledDestination] = []
        for (index, d) in routing.destinations.enumerated() {
            var filter: Condition?
            var transform: ValueTransform?
            var key: KeyTransform?
            var headerOps: [(name: String, op: HeaderOperation)] = []
            var timestamp = TimestampTransform.preserve
            var partition = CompiledDestination.Partition.keyHash
            if let f = d.filter {
                var p = DSLParser(f, caches: registry, paths: paths)
                do { filter = try p.parseFilter() } catch { record(error, index, "filter", f) }
            }
            if let t = d.transform {
                var p = DSLParser(t, caches: registry, paths: paths)
                do { transform = try p.parseTransform() } catch { record(error, index, "transform", t) }
            }
            if let k = d.keyTransform {
                var p = DSLParser(k, caches: registry, paths: paths)
                do { key = try p.parseKeyTransform() } catch { record(error, index, "key_transform", k) }
            }
            for (n, h) in d.headerTransforms.enumerated() {
                var p = DSLParser(h.operation, caches: registry, paths: paths)
                do { headerOps.append((h.header, try p.parseHeaderOperation())) } catch {
                    record(error, index, "header_transforms[\(n)].operation", h.operation)
                }
            }
            if let ts = d.timestamp {
                var p = DSLParser(ts, caches: registry, paths: paths)
                do { timestamp = try p.parseTimestamp() } catch { record(error, index, "timestamp", ts) }
            }
            switch d.partition {
            case .keyHash: partition = .keyHash
            case .preserve: partition = .preserve
            case .field(let path):
                switch JSONPointer.parse(path) {
                case .success(let ptr): partition = .field(paths.intern(ptr))
                case .failure(let e): record(DSLError(offset: e.offset, message: e.message), index, "partition", path)
                }
            }
            var reads = filter?.readsValue ?? false
            if transform != nil { reads = true }
            if let key, case .constant = key {} else if key != nil { reads = true }
            if headerOps.contains(where: { if case .from = $0.op { return true } else { return false } }) { reads = true }
            if case .from = timestamp { reads = true }
            if case .field = partition { reads = true }
            if content != nil && d.matchValue != nil { reads = true }
            compiled.append(CompiledDestination(
                index: index, output: d.output, outputIsTemplate: d.output.contains("{source_topic}"),
                filter: filter, transform: transform, key: key,
                staticHeaders: d.headers.map { ($0.name, Array($0.value.utf8)) }, headerOps: headerOps,
                timestamp: timestamp, partition: partition, errorPolicy: d.errorPolicy, matchValue: d.matchValue,
                readsValue: reads))
        }
        if !errors.isEmpty { throw DSLCompileErrors(errors: errors) }
        self.destinations = compiled
        self.contentPath = content
        self.paths = PathIndex(paths)
        self.options = options
        self.needsPayload = compiled.contains { $0.readsValue }
        self.errorPolicies = compiled.map(\.errorPolicy)
        let n = compiled.count
        if options.fastPath, content == nil, !options.checkForwardedJSON, n <= Pipeline.fastLimit, compiled.allSatisfy({ $0.passThrough != nil }) {
            let codes = UnsafeMutablePointer<FilterCode?>.allocate(capacity: max(1, n))
            for (i, d) in compiled.enumerated() { (codes + i).initialize(to: d.filterProgram?.code) }
            fastFilters = codes
            fastResults = (0..<(1 << n)).map { mask in
                compiled.enumerated().map { i, d in mask & (1 << i) != 0 ? DestinationResult.produce(d.passThrough!) : .filtered }
            }
        } else {
            fastFilters = nil
            fastResults = []
        }
    }

    deinit {
        fastFilters?.deallocate()
    }

    /// Runs `record` through every destination: one result per destination, in order.
    public func process(_ record: InputRecord, into results: inout [DestinationResult]) {
        if let fast = fastFilters {
            withUnsafePointer(to: record) { rp in
                if !needsPayload {
                    var ctx = EvalContext(rp, index: .inert)
                    runFast(fast, &ctx, into: &results)
                    return
                }
                let table = paths.table
                withUnsafeTemporaryAllocation(of: JSONSpan.self, capacity: table.pointee.nodeCount) { spans in
                    var ctx = EvalContext(rp, index: RecordIndex(resetting: spans.baseAddress!, paths: UnsafePointer(table)))
                    runFast(fast, &ctx, into: &results)
                }
            }
            return
        }
        withUnsafePointer(to: record) { rp in
            if !needsPayload {
                // A pure mirror: the value is never looked at.
                var ctx = EvalContext(rp, index: .inert)
                var next = 0
                for d in destinations { evaluate(d, &ctx, into: &results, at: &next) }
                results.truncate(to: next)
                return
            }
            let table = paths.table
            withUnsafeTemporaryAllocation(of: JSONSpan.self, capacity: table.pointee.nodeCount) { spans in
                var ctx = EvalContext(rp, index: RecordIndex(resetting: spans.baseAddress!, paths: UnsafePointer(table)))
                route(&ctx, into: &results)
            }
        }
    }

    @inline(__always)
    func runFast(_ fast: UnsafeMutablePointer<FilterCode?>, _ ctx: inout EvalContext, into results: inout [DestinationResult]) {
        let n = fastResults.count.trailingZeroBitCount
        var mask = 0
        for i in 0..<n {
            guard let f = fast[i] else { mask |= 1 << i; continue }
            do {
                if try f.evaluate(&ctx) { mask |= 1 << i }
            } catch {
                return fastFailed(fast, &ctx, mask: mask, at: i, error, into: &results)
            }
        }
        // The same outcome as the record before (the common case) leaves `results` as it is:
        // no release of the old array, no retain of the new one.
        let same = fastResults.withUnsafeBufferPointer { all in
            all[mask].withUnsafeBufferPointer { want in
                results.withUnsafeBufferPointer { have in have.count == want.count && have.baseAddress == want.baseAddress }
            }
        }
        if !same { results = fastResults[mask] }
    }

    /// The fast path met an error at destination `at`: the results built one by one.
    func fastFailed(_ fast: UnsafeMutablePointer<FilterCode?>, _ ctx: inout EvalContext, mask: Int, at: Int, _ error: RecordError,
                    into results: inout [DestinationResult]) {
        var out: [DestinationResult] = []
        out.reserveCapacity(destinations.count)
        for (i, d) in destinations.enumerated() {
            if i < at {
                out.append(mask & (1 << i) != 0 ? .produce(d.passThrough!) : .filtered)
            } else if i == at {
                out.append(.failed(error))
            } else if let f = fast[i] {
                do {
                    out.append(try f.evaluate(&ctx) ? .produce(d.passThrough!) : .filtered)
                } catch {
                    out.append(.failed(error))
                }
            } else {
                out.append(.produce(d.passThrough!))
            }
        }
        results = out
    }

    func route(_ ctx: inout EvalContext, into results: inout [DestinationResult]) {
        var next = 0
        defer { results.truncate(to: next) }
        guard contentPath != nil else {
            for d in destinations { evaluate(d, &ctx, into: &results, at: &next) }
            return
        }
        var routeText: [UInt8]? = nil
        var routeError: RecordError? = nil
        var anyMatched = false
        if let contentPath {
            do {
                if let span = try ctx.lookup(contentPath) { routeText = ctx.rawOrCompact(span) }
            } catch {
                routeError = error
            }
            if let routeText {
                anyMatched = destinations.contains { $0.matchBytes == routeText }
            }
        }
        var routeErrorReported = false
        let errorTarget = routeError == nil ? -1
            : (destinations.firstIndex { $0.matchValue == "*" } ?? destinations.firstIndex { $0.matchValue != nil } ?? -1)
        for d in destinations {
            if contentPath != nil, d.matchValue != nil {
                if let routeError {
                    if d.index == errorTarget && !routeErrorReported {
                        routeErrorReported = true
                        results.put(.failed(routeError), at: &next)
                    } else {
                        results.put(.filtered, at: &next)
                    }
                    continue
                }
                if d.isDefaultRoute {
                    if anyMatched { results.put(.filtered, at: &next); continue }
                } else if routeText == nil || d.matchBytes != routeText {
                    results.put(.filtered, at: &next)
                    continue
                }
            }
            evaluate(d, &ctx, into: &results, at: &next)
        }
    }

    /// Convenience: a fresh results array.
    public func process(_ record: InputRecord) -> [DestinationResult] {
        var r: [DestinationResult] = []
        process(record, into: &r)
        return r
    }

    /// Evaluates `d` into the next slot, refilling the record the slot held for the previous
    /// record when nothing else holds it.
    @inline(__always)
    func evaluate(_ d: CompiledDestination, _ ctx: inout EvalContext, into results: inout [DestinationResult], at next: inout Int) {
        if d.passThrough != nil {
            // It hands out its prebuilt result: nothing to refill.
            results.put(evaluate(d, &ctx), at: &next)
            return
        }
        var recycled = results.takeRecord(at: next)
        results.put(evaluate(d, &ctx, reusing: &recycled), at: &next)
    }

    func evaluate(_ d: CompiledDestination, _ ctx: inout EvalContext) -> DestinationResult {
        var none: OutputRecord? = nil
        return evaluate(d, &ctx, reusing: &none)
    }

    /// `recycled`: a record no longer needed, whose box and value buffer may be refilled.
    func evaluate(_ d: CompiledDestination, _ ctx: inout EvalContext, reusing recycled: inout OutputRecord?) -> DestinationResult {
        do {
            if options.fastPath, let f = d.filterProgram {
                // The flattened filter (the general one only when tests compare the two).
                if !(try f.code.evaluate(&ctx)) { return .filtered }
            } else if let f = d.filter, !(try f.evaluate(&ctx)) {
                return .filtered
            }
            if let out = d.passThrough {
                if d.readsValue && options.checkForwardedJSON && ctx.hasValue && ctx.rootState != 0 { try ctx.checkWhole() }
                return .produce(out)
            }
            let key = try keyOut(d, &ctx, reusing: &recycled)
            let headers = try headersOut(d, &ctx)
            let timestamp = try timestampOut(d, &ctx)
            var value = ValueOut.unchanged
            if let t = d.transform {
                var out: [UInt8] = recycled?.takeValueBuffer() ?? []
                switch try t.apply(&ctx, into: &out) {
                case .wrote: value = .bytes(out)
                case .unchanged, .notFound: break
                }
            }
            if case .unchanged = value, d.readsValue, options.checkForwardedJSON, ctx.hasValue, ctx.rootState != 0 {
                try ctx.checkWhole()
            }
            let partition: PartitionChoice
            switch d.partition {
            case .keyHash: partition = .keyHash
            case .preserve: partition = .preserve
            case .field(let p):
                if let span = try ctx.lookup(p) { partition = .hash(ctx.rawOrCompact(try ctx.checked(span))) } else { partition = .keyHash }
            }
            let topic = d.outputIsTemplate ? resolveTopicTemplate(d.output, sourceTopic: ctx.record.topic) : d.output
            if var r = recycled {
                recycled = nil
                r.refill(topic: topic, key: key, value: value, headers: headers, timestamp: timestamp, partition: partition)
                return .produce(r)
            }
            return .produce(OutputRecord(topic: topic, key: key, value: value, headers: headers, timestamp: timestamp, partition: partition))
        } catch {
            return .failed(error)
        }
    }

    /// `recycled`: the previous record's output, whose key buffer is refilled when it can be.
    func keyOut(_ d: CompiledDestination, _ ctx: inout EvalContext, reusing recycled: inout OutputRecord?) throws(RecordError) -> KeyOut {
        guard let k = d.key else { return .unchanged }
        func fail(_ m: String) -> RecordError { RecordError(kind: .keyTransform, message: m) }
        switch k {
        case .constant(let bytes):
            return .bytes(bytes)
        case .path(let p):
            guard let span = try ctx.lookup(p) else { throw fail("key path \(p.quoted) not found in the value") }
            return .bytes(ctx.rawOrCompact(try ctx.checked(span)))
        case .hash(let alg, let p):
            var out: [UInt8] = recycled?.takeKeyBuffer() ?? []
            try ctx.hashKey(alg, p, into: &out)
            return .bytes(out)
        case .construct(let fields):
            var out: [UInt8] = recycled?.takeKeyBuffer() ?? []
            try ctx.construct(fields, into: &out)
            return .bytes(out)
        case .template(let parts):
            var out: [UInt8] = []
            for part in parts {
                switch part {
                case .literal(let l): out.append(contentsOf: l.utf8)
                case .path(let p):
                    guard let span = try ctx.lookup(p) else { throw fail("key template path \(p.quoted) not found in the value") }
                    out.append(contentsOf: ctx.scalarText(span) ?? ctx.rawOrCompact(span))
                }
            }
            return .bytes(out)
        }
    }

    func headersOut(_ d: CompiledDestination, _ ctx: inout EvalContext) throws(RecordError) -> HeadersOut {
        if d.staticHeaders.isEmpty && d.headerOps.isEmpty { return .unchanged }
        var list: [(name: String, value: [UInt8]?)] = ctx.record.headers.map { ($0.name, $0.value.map { Array($0) }) }
        func set(_ name: String, _ value: [UInt8]?) {
            if let at = list.firstIndex(where: { $0.name == name }) {
                list[at].value = value
                var k = list.count - 1
                while k > at { if list[k].name == name { list.remove(at: k) }; k -= 1 }
            } else {
                list.append((name, value))
            }
        }
        for h in d.staticHeaders { set(h.name, h.value) }
        for h in d.headerOps {
            switch h.op {
            case .remove:
                list.removeAll { $0.name == h.name }
            case .copy(let source):
                if let v = list.last(where: { $0.name == source }) { set(h.name, v.value) }
            case .from(let p):
                guard let span = try ctx.lookup(p) else {
                    throw RecordError(kind: .headerTransform, message: "header '\(h.name)': path \(p.quoted) not found in the value")
                }
                guard let text = ctx.scalarText(span) else {
                    throw RecordError(kind: .headerTransform, message: "header '\(h.name)': the value at \(p.quoted) is not a string, number or boolean")
                }
                set(h.name, text)
            }
        }
        return .replaced(list)
    }

    func timestampOut(_ d: CompiledDestination, _ ctx: inout EvalContext) throws(RecordError) -> Int64? {
        switch d.timestamp {
        case .preserve: return nil
        case .current: return ctx.now
        case .add(let ms): return ctx.record.timestamp &+ ms
        case .from(let p):
            guard let span = try ctx.lookup(p) else {
                throw RecordError(kind: .timestamp, message: "timestamp path \(p.quoted) not found in the value")
            }
            guard ctx.scanner.kind(span) == .number, let v = Arithmetic.isInteger(ctx.scanner.text(span)) else {
                throw RecordError(kind: .timestamp, message: "the value at \(p.quoted) is not an integer (epoch milliseconds)")
            }
            return v
        }
    }
}

/// The results array of the previous record is overwritten slot by slot: a slot's old record is
/// handed to the evaluation that replaces it (to be refilled), and slots left over are dropped.
extension Array where Element == DestinationResult {
    /// The record in slot `i`, if any; the slot no longer holds it.
    @inline(__always)
    mutating func takeRecord(at i: Int) -> OutputRecord? {
        guard i < count, case .produce(let r) = self[i] else { return nil }
        self[i] = .filtered
        return r
    }

    /// Writes slot `next` and advances it.
    @inline(__always)
    mutating func put(_ r: DestinationResult, at next: inout Int) {
        if next < count { self[next] = r } else { append(r) }
        next &+= 1
    }

    /// Drops the slots from `n` on.
    @inline(__always)
    mutating func truncate(to n: Int) {
        while count > n { removeLast() }
    }
}
