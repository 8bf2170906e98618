// CACHE_PUT:/keyPath,store[,/valuePath] and CACHE_LOOKUP:/keyPath,store,outField|MERGE — a
// value (or the whole record) kept under a key in a named store, read back into a later record.
// Their parsing and their evaluation; the stores themselves are Runtime/CacheStore.swift.

extension DSLParser {
    /// After `CACHE_PUT:` or `CACHE_LOOKUP:` (`word`).
    mutating func parseCache(_ word: String, at start: Int) throws(DSLError) -> ValueTransform {
        let args = try splitArgs(0x2C, maxParts: 3)
        let usage = word == "CACHE_PUT" ? "CACHE_PUT:/keyPath,store[,/valuePath]" : "CACHE_LOOKUP:/keyPath,store,outField|MERGE"
        guard args.count >= (word == "CACHE_PUT" ? 2 : 3) else {
            throw DSLError(offset: start, message: "\(word) is missing arguments", hint: usage)
        }
        guard !args[1].text.isEmpty else { throw DSLError(offset: args[1].offset, message: "missing store name", hint: usage) }
        let registry = caches ?? CacheRegistry()
        let store = registry.store(named: args[1].text)
        if word == "CACHE_PUT" {
            let v = args.count > 2 && !args[2].text.isEmpty ? try pointer(args[2]) : nil
            return .cachePut(key: try pointer(args[0]), store: store, value: v)
        }
        guard !args[2].text.isEmpty else { throw DSLError(offset: args[2].offset, message: "missing output field (or MERGE)", hint: usage) }
        return .cacheLookup(key: try pointer(args[0]), store: store, out: args[2].text == "MERGE" ? nil : Array(args[2].text.utf8))
    }
}

extension EvalContext {
    func cacheKey(_ span: JSONSpan) -> String? {
        switch scanner.kind(span) {
        case .string: return scanner.string(span)
        case .number: return NumberText.normalized(scanner.text(span))
        default: return nil
        }
    }

    mutating func applyCachePut(key keyPath: JSONPointer, store: CacheStore, value valuePath: JSONPointer?) throws(RecordError) -> TransformOutcome {
        guard let k = try lookup(keyPath), let key = cacheKey(k) else { return .unchanged }
        let vspan: JSONSpan
        if let valuePath {
            guard let v = try lookup(valuePath) else { return .unchanged }
            vspan = try checked(v)
        } else {
            try checkWhole()
            vspan = try rootSpan()
        }
        var bytes: [UInt8] = []
        scanner.appendCompact(vspan, to: &bytes)
        store.put(key, bytes)
        return .unchanged
    }

    mutating func applyCacheLookup(key keyPath: JSONPointer, store: CacheStore, out outField: [UInt8]?,
                                   into out: inout [UInt8]) throws(RecordError) -> TransformOutcome {
        let s = scanner
        guard let k = try lookup(keyPath), let key = cacheKey(k), let cached = store.get(key) else { return .notFound }
        if let outField {
            try writeRoot(setting: outField, to: cached, into: &out)
            return .wrote
        }
        try checkWhole()
        let root = try rootSpan()
        // MERGE: the cached object's members override or extend the value's.
        guard s.kind(root) == .object, cached.first == 0x7B else { return .unchanged }
        var merged: [UInt8] = []
        var current: [UInt8] = []
        s.appendCompact(root, to: &current)
        var failed = false
        cached.withUnsafeBytes { raw in
            let cs = JSONScanner(raw)
            do {
                try cs.forEachMember(JSONSpan(start: 0, end: cached.count)) { (n: JSONSpan, v: JSONSpan) throws(JSONScanError) in
                    let name = cs.decodeStringBytes(start: n.start, end: n.end)
                    var value: [UInt8] = []
                    cs.appendCompact(v, to: &value)
                    merged.removeAll(keepingCapacity: true)
                    current.withUnsafeBytes { craw in
                        let ccs = JSONScanner(craw)
                        let cctx = EvalContext(scannerOnly: ccs)
                        if (try? cctx.writeObject(JSONSpan(start: 0, end: current.count), setting: name, to: value, into: &merged)) == nil {
                            failed = true
                        }
                    }
                    swap(&merged, &current)
                }
            } catch {
                failed = true
            }
        }
        if failed { return .unchanged }
        out.append(contentsOf: current)
        return .wrote
    }
}
