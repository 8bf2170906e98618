/// Exit codes that carry meaning to the supervisor.
public enum WorkerExit {
    public static let ok: Int32 = 0
    /// A transient failure: respawn with backoff.
    public static let temporary: Int32 = 75
    /// A configuration problem: do not respawn.
    public static let config: Int32 = 78
}
