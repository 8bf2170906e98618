#if canImport(Glibc)
import Glibc
#endif

public struct WorkerOptions: Sendable {
    public var slot: Int
    public var hostname: String
    /// Drain and exit once this many records completed (benchmarks and tests).
    public var exitAfterRecords: UInt64?
    /// How long a drain or a revoke waits for in-flight records before giving up on them.
    public var drainTimeoutMs: Int64
    /// 15 s: below the supervisor's 20 s stop deadline, so the final commit happens before any SIGKILL.
    public init(slot: Int = 0, hostname: String = WorkerOptions.currentHostname(), exitAfterRecords: UInt64? = nil,
                drainTimeoutMs: Int64 = 15_000) {
        self.slot = slot
        self.hostname = hostname
        self.exitAfterRecords = exitAfterRecords
        self.drainTimeoutMs = drainTimeoutMs
    }

    /// Snapshots go to the supervisor this often; it kills a worker silent for `worker_timeout`.
    static let snapshotIntervalMs: Int64 = 1000

    /// How long the loop waits for records when none are queued: also how late a delivery
    /// report or a control request can be served on an idle worker.
    static let idleWaitMs: Int32 = 10

    public static func currentHostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count) == 0 else { return "localhost" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
