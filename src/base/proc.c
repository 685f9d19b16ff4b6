#include "config.h"

#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/proc.h"
#include "base/util.h"

#define MAX_CHILDREN	64
/*
 * After a stop, how long children have to finish the request or job in
 * hand (a job left leased is retried elsewhere) before SIGKILL.
 */
#define STOP_GRACE_MS	10000

volatile sig_atomic_t	 proc_stopping;
static void		(*stop_hook)(void);

static void
on_stop_signal(int sig)
{
	(void)sig;
	proc_stopping = 1;
	if (stop_hook != NULL)
		stop_hook();
}

void
proc_catch_stop(void (*on_stop)(void))
{
	struct sigaction	 sa;

	stop_hook = on_stop;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/*
 * After a stop: SIGTERM to the children, then SIGKILL to those still
 * there after STOP_GRACE_MS.
 */
static void
stop_children(pid_t *kids, int n)
{
	int64_t	 until = util_mono_ms() + STOP_GRACE_MS;
	int	 i, left, status, tick;
	pid_t	 pid;

	for (tick = 0;; tick++) {
		/*
		 * Again every 0.5 s: a child that had just checked its flag
		 * when the first one came is blocked in accept() again.
		 */
		if (tick % 25 == 0)
			for (i = 0; i < n; i++)
				if (kids[i] != 0)
					kill(kids[i], SIGTERM);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < n; i++)
				if (kids[i] == pid)
					kids[i] = 0;
		for (i = left = 0; i < n; i++)
			left += kids[i] != 0;
		if (left == 0 || pid == -1)
			return;
		if (util_mono_ms() >= until)
			break;
		usleep(20000);
	}
	for (i = 0; i < n; i++)
		if (kids[i] != 0) {
			log_warn("child %ld still busy after %d ms, killed",
			    (long)kids[i], STOP_GRACE_MS);
			kill(kids[i], SIGKILL);
		}
	while (wait(&status) > 0)
		;
}

/*
 * A child of a supervisor that is killed outright (SIGKILL, a crash) is
 * told to stop too: left running, it would carry on beside the children
 * of the supervisor started in its place.
 */
int	 proc_slot;

static int
run_child(pid_t parent, int (*child)(void *), void *arg, int slot)
{
#ifdef __linux__
	prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
	if (getppid() != parent)
		return 0;	/* it died before the line above */
	proc_slot = slot;
	return child(arg);
}

int
proc_supervise(int n, int (*child)(void *), void *arg)
{
	pid_t	 kids[MAX_CHILDREN] = { 0 }, pid, parent = getpid();
	int	 i, status;

	if (n > MAX_CHILDREN)
		n = MAX_CHILDREN;
	proc_catch_stop(NULL);
	while (!proc_stopping) {
		for (i = 0; i < n; i++) {
			if (kids[i] != 0)
				continue;
			if ((pid = fork()) == -1) {
				log_err("fork: %s", strerror(errno));
				sleep(1);
				break;
			}
			if (pid == 0)
				_exit(run_child(parent, child, arg, i));
			kids[i] = pid;
		}
		/*
		 * Polled, not a blocking wait(): a stop that comes between the
		 * check of proc_stopping and the wait would wait for a child
		 * to die.
		 */
		if ((pid = waitpid(-1, &status, WNOHANG)) <= 0) {
			usleep(200000);		/* a signal cuts it short */
			continue;
		}
		for (i = 0; i < n; i++)
			if (kids[i] == pid) {
				kids[i] = 0;
				if (proc_stopping)
					continue;
				if (WIFEXITED(status) &&
				    WEXITSTATUS(status) == PROC_EXIT_CPU)
					log_warn("child %ld went over its CPU "
					    "budget, restarting", (long)pid);
				else
					log_warn("child %ld exited (status "
					    "%d), restarting", (long)pid,
					    status);
			}
		if (!proc_stopping)
			usleep(100000);
	}
	log_info("stopping");
	stop_children(kids, n);
	return 0;
}

static void
on_xcpu(int sig)
{
	static const char msg[] = "pbsync: over the CPU budget of the work in "
	    "hand, exiting\n";

	ssize_t			 w;

	(void)sig;
	/* Only async-signal-safe calls: the heap may be mid-update. */
	w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	_exit(PROC_EXIT_CPU);
}

int
proc_cpu_budget(long seconds)
{
	struct sigaction	 sa;
	struct rusage		 ru;
	struct rlimit		 rl;

	if (getrlimit(RLIMIT_CPU, &rl) == -1)
		return -1;
	if (seconds <= 0) {
		rl.rlim_cur = rl.rlim_max;
		return setrlimit(RLIMIT_CPU, &rl);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_xcpu;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGXCPU, &sa, NULL) == -1 ||
	    getrusage(RUSAGE_SELF, &ru) == -1)
		return -1;
	/* The soft limit counts whole seconds of the process's life. */
	rl.rlim_cur = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1 +
	    seconds);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_CPU, &rl);
}
