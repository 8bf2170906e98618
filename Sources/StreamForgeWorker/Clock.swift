#if canImport(Glibc)
import Glibc
#endif

// The worker's two clocks. Only the loop reads them; the core gets every time passed in.

/// Wall-clock milliseconds since the epoch (record timestamps are in it).
func realtimeMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Monotonic milliseconds (deadlines, intervals, the age of in-flight records).
@inline(__always)
func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
