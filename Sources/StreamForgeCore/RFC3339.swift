#if canImport(Glibc)
import Glibc
#endif

/// A wall-clock time (milliseconds since the epoch) as RFC 3339 UTC with milliseconds, e.g.
/// 2026-11-30T18:46:07.722Z (log lines and dead-letter headers).
public func rfc3339(milliseconds: Int64) -> String {
    var (seconds, millis) = milliseconds.quotientAndRemainder(dividingBy: 1000)
    if millis < 0 {
        seconds -= 1
        millis += 1000
    }
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
        + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(Int(millis), 3))Z"
}

/// The current time as RFC 3339 UTC with milliseconds.
public func rfc3339Now() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return rfc3339(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
}
