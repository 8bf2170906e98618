// One language string checked on its own, as the configuration loader needs it: compiled with
// the same parser, caches and path registry kinds that `Pipeline` uses, so that the loader
// reports exactly what the worker would refuse, at the column inside the string.

package struct LanguageChecker {
    /// What a string is for; each has its own grammar.
    package enum Kind { case filter, transform, keyTransform, headerOperation, timestamp, partitionField }

    /// One registry for every string of a file: `CACHE_PUT` and `CACHE_LOOKUP` of different
    /// destinations must agree on a table's name.
    private let caches = CacheRegistry()

    package init() {}

    /// The error that stops `source` compiling, if any, and the warnings found on the way.
    package func check(_ source: String, as kind: Kind) -> (error: DSLError?, warnings: [DSLError]) {
        var parser = DSLParser(source, caches: caches)
        do {
            switch kind {
            case .filter: _ = try parser.parseFilter()
            case .transform: _ = try parser.parseTransform()
            case .keyTransform: _ = try parser.parseKeyTransform()
            case .headerOperation: _ = try parser.parseHeaderOperation()
            case .timestamp: _ = try parser.parseTimestamp()
            case .partitionField:
                if case .failure(let e) = JSONPointer.parse(source) {
                    return (DSLError(offset: e.offset, message: e.message), [])
                }
            }
            return (nil, parser.warnings)
        } catch {
            return (error, parser.warnings)
        }
    }
}
