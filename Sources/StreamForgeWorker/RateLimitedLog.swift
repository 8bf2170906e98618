import Logging

/// Logs at most once per interval, with the number of events suppressed in between. The time
/// is passed in (monotonic milliseconds).
struct RateLimitedLog {
    let intervalMs: Int64
    private var last: Int64 = -1
    private var suppressed = 0

    init(intervalMs: Int64) {
        self.intervalMs = intervalMs
    }

    /// Whether an event at `now` is logged: nil when it is suppressed, else the number of
    /// events suppressed since the last one logged.
    mutating func admit(now: Int64) -> Int? {
        if last >= 0 && now - last < intervalMs {
            suppressed += 1
            return nil
        }
        defer {
            last = now
            suppressed = 0
        }
        return suppressed
    }

    /// A warning, unless one was logged less than the interval ago; the metadata is built only
    /// for a line that is written.
    mutating func warning(_ logger: Logger, _ message: Logger.Message, metadata: @autoclosure () -> Logger.Metadata,
                          now: Int64) {
        guard let suppressed = admit(now: now) else { return }
        var metadata = metadata()
        if suppressed > 0 { metadata["suppressed_since_last"] = "\(suppressed)" }
        logger.warning(message, metadata: metadata)
    }
}
