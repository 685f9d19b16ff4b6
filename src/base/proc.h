/*
 * proc: the life of a long-running program.
 *
 * SIGTERM and SIGINT stop it: proc_stopping is set and blocking calls are
 * interrupted (no SA_RESTART), so a program checks it and winds down.
 * proc_supervise keeps n children running, restarting those that die (a
 * crash, or a job over its CPU budget), and on a stop gives them a grace
 * period before SIGKILL.  proc_cpu_budget caps the CPU time of the work
 * in hand: past it the process ends, its supervisor starts a new one, and
 * the job it held is retried after its lease like any crash.
 */
#ifndef PBSYNC_PROC_H
#define PBSYNC_PROC_H

#include <signal.h>

/* Exit status of a process stopped by proc_cpu_budget. */
#define PROC_EXIT_CPU	70

extern volatile sig_atomic_t proc_stopping;

/*
 * Catches SIGTERM and SIGINT: proc_stopping is set, then on_stop (NULL
 * for none; it must be async-signal-safe) is called.
 */
void	 proc_catch_stop(void (*on_stop)(void));
/*
 * Runs child(arg) in n processes until a stop; each child's return value
 * is its exit status.  Returns 0 after the children are gone.
 */
int	 proc_supervise(int n, int (*child)(void *), void *arg);
/* In a child of proc_supervise: its place, 0 to n-1 (kept on restarts). */
extern int	 proc_slot;
/*
 * From now on this process may use seconds more of CPU time; past that it
 * logs to stderr and exits with PROC_EXIT_CPU.  0 lifts the budget.
 * Returns 0, or -1 if the limit cannot be set.
 */
int	 proc_cpu_budget(long seconds);

#endif
