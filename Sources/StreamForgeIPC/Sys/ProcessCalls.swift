// The process calls that Swift cannot make directly: the <sys/wait.h> status macros and the
// variadic prctl(2), through the one-line C functions of CProcessShim (seen only here).

import CProcessShim

package enum ProcessCalls {
    /// What a waitpid(2) status says.
    package enum WaitOutcome: Equatable {
        case exited(Int32)
        case signaled(Int32)
        /// Stopped or continued: not an end.
        case other
    }

    package static func decode(waitStatus status: Int32) -> WaitOutcome {
        if sf_wifexited(status) != 0 { return .exited(sf_wexitstatus(status)) }
        if sf_wifsignaled(status) != 0 { return .signaled(sf_wtermsig(status)) }
        return .other
    }

    /// PR_SET_PDEATHSIG: the kernel sends `signal` to this process when its parent exits.
    package static func setParentDeathSignal(_ signal: Int32) {
        _ = sf_set_parent_death_signal(signal)
    }

    /// PR_SET_NAME: the name `pgrep`, `top` and `ps -o comm` show (the kernel keeps 15 bytes).
    package static func setName(_ name: String) {
        _ = name.withCString { sf_set_process_name($0) }
    }
}
