#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

int
store_metric_add(struct store *s, const struct store_metric *m, size_t n,
    long wait_ms)
{
	static const char sql[] = "INSERT INTO metric (name, labels, value)"
	    " VALUES (?, ?, ?) ON CONFLICT (name, labels) DO UPDATE SET"
	    " value = value + excluded.value";
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	/*
	 * Counts wait for a later batch rather than hold up a request: a
	 * write lock not free within wait_ms is no error, and not logged.
	 */
	if ((st = store_stmt(s, "BEGIN IMMEDIATE")) == NULL)
		return -1;
	s->wait_max_ms = wait_ms;
	rc = sqlite3_step(st);
	s->wait_max_ms = 0;
	sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_BUSY)
		return STORE_BUSY;
	if (rc != SQLITE_DONE)
		return store_fail(s, "metric begin");
	for (i = 0; i < n; i++) {
		if ((st = store_stmt(s, sql)) == NULL)
			goto fail;
		store_bind_text(st, 1, m[i].name);
		store_bind_text(st, 2, m[i].labels);
		sqlite3_bind_double(st, 3, m[i].value);
		if (store_exec_stmt(s, st, "metric add") != 0)
			goto fail;
	}
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

int
store_metric_list(struct store *s, struct store_metric **out, size_t *n)
{
	static const char sql[] = "SELECT name, labels, value FROM metric"
	    " ORDER BY name, labels";
	struct store_metric *v = NULL, *nv;
	sqlite3_stmt	*st;
	size_t		 cap = 0;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				sqlite3_reset(st);
				free(v);
				return -1;
			}
			v = nv;
		}
		store_text_fixed(st, 0, v[*n].name, sizeof(v[*n].name));
		store_text_fixed(st, 1, v[*n].labels, sizeof(v[*n].labels));
		v[(*n)++].value = sqlite3_column_double(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return store_fail(s, "metric list");
	}
	*out = v;
	return 0;
}

/* Runs a one-row, one-column count: 0 or -1. */
static int
count(struct store *s, const char *sql, double now, long long *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_double(st, 1, now);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : store_fail(s, "gauge");
}

int
store_gauges(struct store *s, double now, struct store_gauges *g)
{
	/* One pass over the job table; a scrape every few seconds can pay. */
	static const char jobs[] = "SELECT kind, state, count(*),"
	    " min(created_at) FROM job GROUP BY kind, state ORDER BY kind, state";
	/* The first entry of job_due among the ready jobs that are due. */
	static const char due[] = "SELECT run_at FROM job WHERE state = 'ready'"
	    " AND run_at <= ? ORDER BY run_at LIMIT 1";
	static const char integrations[] = "SELECT count(*) FROM integration";
	static const char links[] = "SELECT coalesce((SELECT n FROM row_count"
	    " WHERE name = 'link'), 0)";
	static const char paused[] = "SELECT count(*) FROM upstream_pause"
	    " WHERE until > ?";
	sqlite3_stmt	*st;
	struct store_jobstat *j;
	int		 rc;

	memset(g, 0, sizeof(*g));
	if ((st = store_stmt(s, jobs)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    g->njobs < sizeof(g->jobs) / sizeof(g->jobs[0])) {
		j = &g->jobs[g->njobs++];
		store_text_fixed(st, 0, j->kind, sizeof(j->kind));
		store_text_fixed(st, 1, j->state, sizeof(j->state));
		j->n = sqlite3_column_int64(st, 2);
		j->oldest = sqlite3_column_double(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(s, "job gauges");
	if ((st = store_stmt(s, due)) == NULL)
		return -1;
	sqlite3_bind_double(st, 1, now);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g->due_since = sqlite3_column_double(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(s, "job lag");
	if (count(s, integrations, now, &g->integrations) == -1 ||
	    count(s, links, now, &g->links) == -1 ||
	    count(s, paused, now, &g->paused_tokens) == -1)
		return -1;
	return 0;
}
