// The exit codes StreamForge's processes use, from sysexits.h where one fits. One type for the
// daemon, its workers and streamforgectl, so that a number means the same thing everywhere: the
// unit's `RestartPreventExitStatus=78` and the supervisor's respawn policy key on them.

public enum ExitCode: Int32, Sendable, CaseIterable {
    /// Done, or drained and stopped on request.
    case ok = 0
    /// A command was refused or failed (streamforgectl), or a test case did not match.
    case failure = 1
    /// EX_USAGE: bad command-line arguments.
    case usage = 64
    /// EX_DATAERR: input records that could not be read (dry-run, test).
    case dataError = 65
    /// EX_NOINPUT: a named input file does not exist.
    case noInput = 66
    /// EX_UNAVAILABLE: the daemon is not running or not reachable.
    case unavailable = 69
    /// EX_TEMPFAIL: a transient failure; try again (the supervisor respawns with backoff;
    /// streamforgectl: the daemon is busy).
    case temporary = 75
    /// EX_CONFIG: the configuration cannot run; do not respawn until it changes.
    case config = 78
}
