// The parts of <sys/wait.h> and <sys/prctl.h> that Swift cannot call: the W* status macros and
// the variadic prctl(2). Each is one line of C so that nothing is decoded by hand in Swift.
#ifndef STREAMFORGE_PROCESS_SHIM_H
#define STREAMFORGE_PROCESS_SHIM_H

#include <sys/prctl.h>
#include <sys/wait.h>

static inline int sf_wifexited(int status) { return WIFEXITED(status); }
static inline int sf_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int sf_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int sf_wtermsig(int status) { return WTERMSIG(status); }

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` when the parent thread exits.
static inline int sf_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }
/// prctl(PR_SET_NAME, name): the thread's name as `ps -o comm` and pgrep see it (15 bytes).
static inline int sf_set_process_name(const char *name) { return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

#endif
