/*
 * storebench: the store side of the benchmarks, linked with libpbsync and
 * configured like the programs (PBSYNC_CONFIG and the environment).
 *
 *   storebench plans IID FEATURE ISSUE_ID
 *	Runs the store calls of the hot paths (inbound auth, ingest,
 *	dedupe, lease, one sync, the health and admin queries) inside a
 *	transaction that is rolled back, then prints, one JSON object a
 *	line, every statement they prepared with its EXPLAIN QUERY PLAN.
 *	The statements come from the statement cache, so they are exactly
 *	the SQL the programs run.
 *   storebench jobs [trace]
 *	Runs the due jobs one by one, as the worker does, and prints the
 *	duration of each in ms as a JSON list; with trace, each statement
 *	they ran and its time go to stderr.
 *   storebench lookup IID FEATURE ISSUE_ID N
 *	Looks the link up N times by its feature and N times by its issue,
 *	each call on its own as a delivery or a sync makes it, and prints
 *	the median of each in µs as JSON.
 *   storebench claims IID PREFIX N
 *	Claims N new links (features PREFIX-0...), each in a transaction
 *	of its own as a push does, and prints claims per second.
 * Plans and traces are SQLite's; the others run on either engine.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "app/app.h"
#include "base/util.h"
#include "flows/jobs.h"

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			putchar(' ');
		else
			putchar(*s);
	putchar('"');
}

/* Prints the plan of one cached statement. */
static void
explain(struct store *s, const char *sql)
{
	sqlite3_stmt	*st;
	char		*q;
	int		 first = 1;

	if ((q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql)) == NULL)
		return;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_free(q);
		return;
	}
	printf("{\"sql\": ");
	json_string(sql);
	printf(", \"plan\": [");
	while (sqlite3_step(st) == SQLITE_ROW) {
		printf("%s", first ? "" : ", ");
		json_string((const char *)sqlite3_column_text(st, 3));
		first = 0;
	}
	printf("]}\n");
	sqlite3_finalize(st);
	sqlite3_free(q);
}

static int
plans(struct app *a, const char *iid, const char *fid, const char *issue)
{
	struct store		*s = &a->store;
	struct store_integration in;
	struct store_link	 l;
	struct store_job	 j;
	struct store_health	 h;
	struct store_isum	*sum;
	struct store_session	 ss;
	double			 now = util_now(), until;
	size_t			 n, i;

	if (store_begin(s) == -1)
		return 1;
	if (store_integration_get(s, iid, &in) == 0)
		store_integration_release(&in);
	store_delivery_seen(s, iid, "gitlab", "storebench-plan", now);
	store_job_enqueue(s, iid, "sync", fid, NULL, now);
	if (store_job_lease(s, now + 1, 60, NULL, 0, &j) == 0) {
		store_job_done(s, &j);
		store_job_release(&j);
	}
	if (store_link_get_by_issue(s, iid, issue, &l) == 0)
		store_link_release(&l);
	if (store_link_get(s, iid, fid, &l) == 0) {
		store_link_lock(s, l.id, now, now + 60);
		store_link_set_snapshot(s, &l);
		store_link_release(&l);
	}
	store_pause_get(s, "storebench", &until);
	store_health(s, &h);
	if (store_isum_list(s, &sum, &n) == 0)
		store_isum_free(sum, n);
	store_session_get(s, "storebench", now, &ss);
	store_rollback(s);
	for (i = 0; i < sizeof(s->cache) / sizeof(s->cache[0]) &&
	    s->cache[i].sql != NULL; i++)
		explain(s, s->cache[i].sql);
	return 0;
}

/* Prints each statement a job runs and its time to stderr. */
static int
on_profile(unsigned type, void *out, void *p, void *x)
{
	if (type == SQLITE_TRACE_PROFILE)
		fprintf(out, "%.3f ms: %s\n",
		    (double)*(sqlite3_int64 *)x / 1e6,
		    sqlite3_sql((sqlite3_stmt *)p));
	return 0;
}

static int
jobs(struct app *a, int trace)
{
	double	 t0;
	int	 n = 0;

	if (trace)
		sqlite3_trace_v2(a->store.db, SQLITE_TRACE_PROFILE, on_profile,
		    stderr);
	printf("[");
	for (;;) {
		t0 = now_ms();
		if (jobs_run_one(a) != 1)
			break;
		printf("%s%.3f", n++ > 0 ? ", " : "", now_ms() - t0);
	}
	printf("]\n");
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n times, sorted in place. */
static double
median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
lookup(struct app *a, const char *iid, const char *fid, const char *issue,
    int n)
{
	struct store_link l;
	double		*by_fid, *by_issue, t0;
	int		 i, rc = 1;

	by_fid = calloc(n, sizeof(*by_fid));
	by_issue = calloc(n, sizeof(*by_issue));
	if (by_fid == NULL || by_issue == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		t0 = now_ms();
		if (store_link_get(&a->store, iid, fid, &l) != 0)
			goto out;
		store_link_release(&l);
		by_fid[i] = (now_ms() - t0) * 1e3;
		t0 = now_ms();
		if (store_link_get_by_issue(&a->store, iid, issue, &l) != 0)
			goto out;
		store_link_release(&l);
		by_issue[i] = (now_ms() - t0) * 1e3;
	}
	printf("{\"by_feature_us\": %.1f, \"by_issue_us\": %.1f}\n",
	    median(by_fid, n), median(by_issue, n));
	rc = 0;
out:
	free(by_fid);
	free(by_issue);
	return rc;
}

static int
claims(struct app *a, const char *iid, const char *prefix, int n)
{
	struct store_link l;
	char		 fid[128];
	double		 t0 = now_ms();
	int		 i;

	for (i = 0; i < n; i++) {
		snprintf(fid, sizeof(fid), "%s-%d", prefix, i);
		if (store_link_claim(&a->store, iid, fid, "storebench", &l) != 0)
			return 1;
		store_link_release(&l);
	}
	printf("%.1f\n", n / ((now_ms() - t0) / 1e3));
	return 0;
}

int
main(int argc, char *argv[])
{
	struct app	 a;
	int		 rc = 2;

	if (app_open(&a, "storebench") == -1 || app_store(&a) == -1)
		return 1;
	if (a.store.db == NULL && argc > 1 && (strcmp(argv[1], "plans") == 0 ||
	    (strcmp(argv[1], "jobs") == 0 && argc == 3)))
		fprintf(stderr, "storebench: plans and traces are SQLite's\n");
	else if (argc == 5 && strcmp(argv[1], "plans") == 0)
		rc = plans(&a, argv[2], argv[3], argv[4]);
	else if ((argc == 2 || (argc == 3 && strcmp(argv[2], "trace") == 0))
	    && strcmp(argv[1], "jobs") == 0)
		rc = jobs(&a, argc == 3);
	else if (argc == 6 && strcmp(argv[1], "lookup") == 0 &&
	    atoi(argv[5]) > 0)
		rc = lookup(&a, argv[2], argv[3], argv[4], atoi(argv[5]));
	else if (argc == 5 && strcmp(argv[1], "claims") == 0)
		rc = claims(&a, argv[2], argv[3], atoi(argv[4]));
	else
		fprintf(stderr, "usage: storebench plans IID FEATURE ISSUE_ID |"
		    " jobs [trace] | lookup IID FEATURE ISSUE_ID N |"
		    " claims IID PREFIX N\n");
	app_close(&a);
	return rc;
}
