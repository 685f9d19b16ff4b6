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
	    " value = metric.value + excluded.value";
	struct db_stmt	*st = NULL;
	size_t		 i;
	int		 rc;

	/*
	 * Counts wait for a later batch rather than hold up a request: a
	 * lock not free within wait_ms is no error, and not logged.
	 */
	if (db_begin(s->conn, wait_ms) == -1)
		return db_error(s->conn) == DB_BUSY ? STORE_BUSY :
		    store_fail(s, "metric begin");
	for (i = 0; i < n; i++) {
		if ((st = store_stmt(s, sql)) == NULL)
			goto fail;
		db_bind_text(st, 1, m[i].name);
		db_bind_text(st, 2, m[i].labels);
		db_bind_double(st, 3, m[i].value);
		if (db_step(st) != DB_DONE)
			goto fail;
		db_reset(st);
	}
	return store_commit(s);
fail:
	rc = db_error(s->conn) == DB_BUSY ? STORE_BUSY :
	    store_fail(s, "metric add");
	if (st != NULL)
		db_reset(st);
	store_rollback(s);
	return rc;
}

int
store_metric_list(struct store *s, struct store_metric **out, size_t *n)
{
	static const char sql[] = "SELECT name, labels, value FROM metric"
	    " ORDER BY name, labels";
	struct store_metric *v = NULL, *nv;
	struct db_stmt	*st;
	size_t		 cap = 0;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				db_reset(st);
				free(v);
				return -1;
			}
			v = nv;
		}
		store_text_fixed(st, 0, v[*n].name, sizeof(v[*n].name));
		store_text_fixed(st, 1, v[*n].labels, sizeof(v[*n].labels));
		v[(*n)++].value = db_column_double(st, 2);
	}
	db_reset(st);
	if (rc != DB_DONE) {
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
	struct db_stmt	*st;
	int		 rc;

	*out = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	if (db_param_count(st) >= 1)
		db_bind_double(st, 1, now);
	if ((rc = db_step(st)) == DB_ROW)
		*out = db_column_int64(st, 0);
	db_reset(st);
	return rc == DB_ROW ? 0 : store_fail(s, "gauge");
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
	struct db_stmt	*st;
	struct store_jobstat *j;
	int		 rc;

	memset(g, 0, sizeof(*g));
	if ((st = store_stmt(s, jobs)) == NULL)
		return -1;
	while ((rc = db_step(st)) == DB_ROW &&
	    g->njobs < sizeof(g->jobs) / sizeof(g->jobs[0])) {
		j = &g->jobs[g->njobs++];
		store_text_fixed(st, 0, j->kind, sizeof(j->kind));
		store_text_fixed(st, 1, j->state, sizeof(j->state));
		j->n = db_column_int64(st, 2);
		j->oldest = db_column_double(st, 3);
	}
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return store_fail(s, "job gauges");
	if ((st = store_stmt(s, due)) == NULL)
		return -1;
	db_bind_double(st, 1, now);
	if ((rc = db_step(st)) == DB_ROW)
		g->due_since = db_column_double(st, 0);
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return store_fail(s, "job lag");
	if (count(s, integrations, now, &g->integrations) == -1 ||
	    count(s, links, now, &g->links) == -1 ||
	    count(s, paused, now, &g->paused_tokens) == -1)
		return -1;
	return 0;
}
