/*
 * t.h: the unit tests' tiny TAP harness.
 *
 * Each CHECK prints one TAP line ("ok N - expr" or "not ok N - expr") with
 * the source line, so automake's TAP driver counts every check.  A test
 * binary ends with "return t_done();", which prints the plan.
 */
#ifndef PBSYNC_T_H
#define PBSYNC_T_H

#include <stdio.h>
#include <string.h>

static int t_n, t_failed;

static inline int
t_check(int ok, const char *what, const char *file, int line)
{
	++t_n;
	if (!ok)
		++t_failed;
	printf("%sok %d - %s (%s:%d)\n", ok ? "" : "not ", t_n, what, file,
	    line);
	fflush(stdout);
	return ok;
}

#define CHECK(e)	t_check(!!(e), #e, __FILE__, __LINE__)
#define CHECK_STR(a, b)	t_check_str((a), (b), #a " == " #b, __FILE__, __LINE__)
#define CHECK_INT(a, b)	t_check((long long)(a) == (long long)(b), \
			    #a " == " #b, __FILE__, __LINE__) || \
			    (fprintf(stdout, "# got %lld, expected %lld\n", \
			    (long long)(a), (long long)(b)), 0)

static inline int
t_check_str(const char *a, const char *b, const char *what, const char *file,
    int line)
{
	int	 ok = a != NULL && b != NULL && strcmp(a, b) == 0;

	t_check(ok, what, file, line);
	if (!ok)
		printf("# got:      \"%s\"\n# expected: \"%s\"\n",
		    a ? a : "(null)", b ? b : "(null)");
	return ok;
}

static inline int
t_done(void)
{
	printf("1..%d\n", t_n);
	return t_failed ? 1 : 0;
}

#endif
