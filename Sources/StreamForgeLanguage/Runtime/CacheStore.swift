// Named in-process lookup tables (`CACHE_PUT` / `CACHE_LOOKUP`), shared by the destinations of
// one pipeline. Each store keeps up to 10 000 entries for one hour, like the existing tool.

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class CacheStore: Sendable {
    public let name: String
    let capacity: Int
    let ttlMs: Int64

    struct Entry { var value: [UInt8]; var expires: Int64 }
    struct State {
        var entries: [String: Entry] = [:]
        var order: [String] = []   // insertion order, oldest first (entries may be stale)
        var head = 0
    }
    private let state = Mutex(State())

    public init(name: String, capacity: Int = 10_000, ttlMs: Int64 = 3_600_000) {
        self.name = name
        self.capacity = capacity
        self.ttlMs = ttlMs
    }

    /// Stores compact JSON text under `key`.
    public func put(_ key: String, _ value: [UInt8], now: Int64 = CacheStore.nowMs()) {
        state.withLock { s in
            if s.entries[key] == nil {
                while s.entries.count >= capacity, s.head < s.order.count {
                    let old = s.order[s.head]
                    s.head += 1
                    s.entries[old] = nil
                }
                s.order.append(key)
                if s.head > 4096 && s.head * 2 > s.order.count {
                    s.order.removeFirst(s.head)
                    s.head = 0
                }
            }
            s.entries[key] = Entry(value: value, expires: now + ttlMs)
        }
    }

    /// The compact JSON text stored under `key`, if present and not expired.
    public func get(_ key: String, now: Int64 = CacheStore.nowMs()) -> [UInt8]? {
        state.withLock { s in
            guard let e = s.entries[key] else { return nil }
            if e.expires <= now { s.entries[key] = nil; return nil }
            return e.value
        }
    }

    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// The stores of one pipeline, created by name as the configuration is compiled.
package final class CacheRegistry: Sendable {
    private let stores = Mutex([String: CacheStore]())
    func store(named name: String) -> CacheStore {
        stores.withLock { s in
            if let existing = s[name] { return existing }
            let new = CacheStore(name: name)
            s[name] = new
            return new
        }
    }
}
