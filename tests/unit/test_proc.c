#include "config.h"

#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/proc.h"
#include "t.h"

/* Spins until this process has used cpu_s seconds of CPU time. */
static void
burn(double cpu_s)
{
	struct timespec	 ts;
	volatile unsigned long x = 0;

	do {
		for (int i = 0; i < 1000000; i++)
			x += (unsigned long)i;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	} while (ts.tv_sec + ts.tv_nsec / 1e9 < cpu_s);
}

/* The exit status of a child that sets a budget of 1 s, maybe lifts it,
 * then burns burn_s. */
static int
child_status(int lift, double burn_s)
{
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == 0) {
		if (proc_cpu_budget(1) == -1)
			_exit(2);
		if (lift && proc_cpu_budget(0) == -1)
			_exit(3);
		burn(burn_s);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *counter;

/* A supervised child: counts its start, then exits at once. */
static int
short_lived(void *arg)
{
	int	 fd = open(counter, O_WRONLY | O_APPEND);

	(void)arg;
	if (fd == -1 || write(fd, "x", 1) != 1)
		return 1;
	close(fd);
	return PROC_EXIT_CPU;
}

/* A supervised child: writes its pid, then waits to be stopped. */
static int
long_lived(void *arg)
{
	FILE	*f = fopen(counter, "w");

	(void)arg;
	if (f == NULL)
		return 1;
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
	while (!proc_stopping)
		pause();
	return 0;
}

/* 1 while pid runs (a zombie nobody reaped has ended). */
static int
running(long pid)
{
	char	 path[64], buf[256], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static long
pid_in(const char *path)
{
	FILE	*f = fopen(path, "r");
	long	 pid = 0;

	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

static long
starts(void)
{
	FILE	*f = fopen(counter, "r");
	long	 n = 0;

	if (f == NULL)
		return -1;
	while (fgetc(f) != EOF)
		n++;
	fclose(f);
	return n;
}

int
main(void)
{
	char	 path[] = "/tmp/pbsync-test-proc-XXXXXX";
	pid_t	 sup;
	long	 kid;
	int	 fd, st, i;

	log_open("test_proc", LOGL_ERR, NULL);
	/* Past the budget the process ends with PROC_EXIT_CPU... */
	CHECK_INT(child_status(0, 30.0), PROC_EXIT_CPU);
	/* ...unless the budget was lifted. */
	CHECK_INT(child_status(1, 2.5), 0);

	/* A supervisor starts its children again until SIGTERM stops it. */
	if ((fd = mkstemp(path)) == -1)
		return 1;
	close(fd);
	counter = path;
	if ((sup = fork()) == 0)
		_exit(proc_supervise(2, short_lived, NULL));
	for (i = 0; i < 100 && starts() < 6; i++)
		usleep(100000);
	CHECK(starts() >= 6);
	kill(sup, SIGTERM);
	for (i = 0; i < 100 && waitpid(sup, &st, WNOHANG) == 0; i++)
		usleep(100000);
	CHECK(i < 100 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (i == 100) {
		kill(sup, SIGKILL);
		waitpid(sup, NULL, 0);
	}

	/* A supervisor killed outright takes its child with it. */
	if (truncate(path, 0) == -1)
		return 1;
	if ((sup = fork()) == 0)
		_exit(proc_supervise(1, long_lived, NULL));
	for (i = 0; i < 100 && (kid = pid_in(path)) <= 0; i++)
		usleep(100000);
	CHECK(kid > 0 && running(kid));
	kill(sup, SIGKILL);
	waitpid(sup, NULL, 0);
	for (i = 0; i < 100 && running(kid); i++)
		usleep(100000);
	CHECK(kid > 0 && !running(kid));
	unlink(path);
	return t_done();
}
