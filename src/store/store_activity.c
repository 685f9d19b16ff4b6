/*
 * store_activity: what the activity dashboard and the sync log page read:
 * the hourly activity counts (schema 10), the job queue's depth per
 * integration, and the sync log filtered and paged.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

const char *const store_act_kinds[STORE_ACT_N] = {
	"delivery", "push", "sync", "conflict", "failure",
};

static int
kind_of(const unsigned char *k)
{
	int	 i;

	for (i = 0; k != NULL && i < STORE_ACT_N; i++)
		if (strcmp((const char *)k, store_act_kinds[i]) == 0)
			return i;
	return -1;
}

int
store_activity_add(struct store *s, const char *iid, enum store_act kind,
    double at)
{
	static const char sql[] = "INSERT INTO activity (integration_id,"
	    " hour, kind, n) VALUES (?, ?, ?, 1)"
	    " ON CONFLICT DO UPDATE SET n = n + 1";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, iid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(at / 3600));
	store_bind_text(st, 3, store_act_kinds[kind]);
	return store_exec_stmt(s, st, "activity add");
}

int
store_activity_series(struct store *s, const char *iid, long long end_hour,
    int width, int nb, struct store_series *out)
{
	/* activity_hour for every integration, the primary key for one. */
	static const char all[] = "SELECT kind, (hour - ?1) / ?2, sum(n)"
	    " FROM activity WHERE hour >= ?1 AND hour < ?3 GROUP BY 1, 2";
	static const char one[] = "SELECT kind, (hour - ?1) / ?2, sum(n)"
	    " FROM activity WHERE integration_id = ?4 AND hour >= ?1"
	    " AND hour < ?3 GROUP BY 1, 2";
	sqlite3_stmt	*st;
	long long	 b;
	int		 rc, k;

	memset(out, 0, sizeof(*out));
	if (width < 1 || nb < 1 || nb > STORE_ACT_BUCKETS)
		return -1;
	out->buckets = nb;
	out->width = width;
	out->from_hour = end_hour - (long long)width * nb;
	if ((st = store_stmt(s, iid != NULL ? one : all)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, out->from_hour);
	sqlite3_bind_int(st, 2, width);
	sqlite3_bind_int64(st, 3, end_hour);
	if (iid != NULL)
		store_bind_text(st, 4, iid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		k = kind_of(sqlite3_column_text(st, 0));
		b = sqlite3_column_int64(st, 1);
		if (k < 0 || b < 0 || b >= nb)
			continue;
		out->n[k][b] += sqlite3_column_int64(st, 2);
		out->total[k] += sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "activity series");
}

/*
 * Finds iid in the sorted array v of n entries of size elem whose first
 * member is the integration id, appending a zeroed one (kept sorted by
 * the queries' ORDER BY) when the last is another: the entry, or NULL.
 */
static void *
entry(void **v, size_t *n, size_t elem, const unsigned char *iid)
{
	char	*p = *v, *tmp;

	if (iid == NULL)
		return NULL;
	if (*n > 0 && strcmp(p + (*n - 1) * elem, (const char *)iid) == 0)
		return p + (*n - 1) * elem;
	if ((tmp = realloc(p, (*n + 1) * elem)) == NULL)
		return NULL;
	*v = tmp;
	p = tmp + (*n)++ * elem;
	memset(p, 0, elem);
	snprintf(p, 33, "%s", (const char *)iid);
	return p;
}

int
store_activity_totals(struct store *s, long long from_hour, long long to_hour,
    struct store_acttotal **out, size_t *n)
{
	static const char sql[] = "SELECT integration_id, kind, sum(n)"
	    " FROM activity WHERE hour >= ? AND hour < ?"
	    " GROUP BY 1, 2 ORDER BY 1";
	sqlite3_stmt	*st;
	struct store_acttotal *t;
	void		*v = NULL;
	int		 rc, k;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, from_hour);
	sqlite3_bind_int64(st, 2, to_hour);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((t = entry(&v, n, sizeof(*t),
		    sqlite3_column_text(st, 0))) == NULL)
			break;
		if ((k = kind_of(sqlite3_column_text(st, 1))) >= 0)
			t->n[k] = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	*out = v;
	if (rc != SQLITE_DONE) {
		free(v);
		*out = NULL;
		*n = 0;
		return rc == SQLITE_ROW ? -1 : store_fail(s, "activity totals");
	}
	return 0;
}

int
store_queue_stats(struct store *s, double now, struct store_queue **out,
    size_t *n)
{
	/*
	 * One pass over the job table, which holds only the jobs not done:
	 * "retrying" is a waiting job that has failed before.
	 */
	static const char sql[] = "SELECT integration_id,"
	    " sum(state = 'ready' AND attempts = 0),"
	    " sum(state = 'ready' AND attempts > 0), sum(state = 'leased'),"
	    " sum(state = 'dead'),"
	    " min(CASE WHEN state != 'dead' THEN created_at END),"
	    " min(CASE WHEN state = 'ready' AND run_at <= ? THEN run_at END)"
	    " FROM job GROUP BY 1 ORDER BY 1";
	sqlite3_stmt	*st;
	struct store_queue *q;
	void		*v = NULL;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_double(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((q = entry(&v, n, sizeof(*q),
		    sqlite3_column_text(st, 0))) == NULL)
			break;
		q->queued = sqlite3_column_int64(st, 1);
		q->retrying = sqlite3_column_int64(st, 2);
		q->leased = sqlite3_column_int64(st, 3);
		q->buried = sqlite3_column_int64(st, 4);
		q->oldest = sqlite3_column_double(st, 5);
		q->due_since = sqlite3_column_double(st, 6);
	}
	sqlite3_reset(st);
	*out = v;
	if (rc != SQLITE_DONE) {
		free(v);
		*out = NULL;
		*n = 0;
		return rc == SQLITE_ROW ? -1 : store_fail(s, "queue stats");
	}
	return 0;
}

/*
 * The sync log's pages.  Rows come newest first by (at, id), and a page
 * starts below the last row of the page before (keyset paging): each
 * filter combination has an index in (at) order, so a page reads its own
 * rows and no more, however deep it is.  OFFSET would read and throw away
 * every row of the pages before it, and would shift under rows written
 * meanwhile, showing one twice or skipping one.  Where two indexes could
 * serve, a unary + keeps the planner off the less selective one (the
 * feature's rows beat the integration's or a result's); CROSS JOIN keeps
 * the sync log the outer loop, so no sort is needed.
 */
#define LOG_SELECT \
	"SELECT g.id, g.at, g.actor, g.action, g.feature_id, g.issue_ref," \
	" g.result, g.detail, g.integration_id, i.name, l.id, l.snap_name" \
	" FROM sync_log g CROSS JOIN integration i ON i.id = g.integration_id" \
	" LEFT JOIN link l ON l.integration_id = g.integration_id" \
	" AND l.feature_id = g.feature_id" \
	" WHERE g.at >= ?1 AND g.at < ?2 AND g.at <= ?3" \
	" AND (g.at < ?3 OR g.id < ?4)"
/*
 * Who and the text have no index: they filter the rows the index gives in
 * page order, so a page reads rows until it has max of them (a rare text
 * may read far into the log; the LIMIT still ends the scan at a page).
 */
#define LOG_ORDER \
	" AND (?9 IS NULL OR g.actor = ?9 COLLATE NOCASE)" \
	" AND (?10 IS NULL OR g.detail LIKE ?10 ESCAPE '\\'" \
	" OR g.feature_id LIKE ?10 ESCAPE '\\'" \
	" OR l.snap_name LIKE ?10 ESCAPE '\\')" \
	" ORDER BY g.at DESC, g.id DESC LIMIT ?8"
#define BY_IID " AND g.integration_id = ?5"
#define BY_IID_ALSO " AND +g.integration_id = ?5"
#define BY_FID " AND g.feature_id = ?6"
#define BY_RES " AND g.result = ?7"
#define BY_RES_ALSO " AND +g.result = ?7"

/* Indexed by (integration ? 1 : 0) | (feature ? 2 : 0) | (result ? 4 : 0). */
static const char *const log_sql[8] = {
	LOG_SELECT LOG_ORDER,
	LOG_SELECT BY_IID LOG_ORDER,
	LOG_SELECT BY_FID LOG_ORDER,
	LOG_SELECT BY_IID_ALSO BY_FID LOG_ORDER,
	LOG_SELECT BY_RES LOG_ORDER,
	LOG_SELECT BY_IID BY_RES LOG_ORDER,
	LOG_SELECT BY_FID BY_RES_ALSO LOG_ORDER,
	LOG_SELECT BY_IID_ALSO BY_FID BY_RES_ALSO LOG_ORDER,
};

static int
read_logent(sqlite3_stmt *st, struct store_logent *e)
{
	memset(e, 0, sizeof(*e));
	if (store_logrow_read(st, 0, &e->r) == -1)
		return -1;
	store_text_fixed(st, 8, e->integration_id, sizeof(e->integration_id));
	e->link_id = sqlite3_column_int64(st, 10);
	if (store_text(st, 9, &e->integration_name) == -1 ||
	    store_text(st, 11, &e->feature_name) == -1)
		return -1;
	return 0;
}

/* The at of the sync log entry id: 0, STORE_NOTFOUND or -1. */
static int
entry_at(struct store *s, long long id, double *at)
{
	static const char sql[] = "SELECT at FROM sync_log WHERE id = ?";
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*at = sqlite3_column_double(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? STORE_NOTFOUND : store_fail(s, "log entry");
}

/*
 * "%text%" with text's %, _ and \ taken literally (ESCAPE '\'), or NULL
 * when text is NULL or memory is short: to free.
 */
static char *
like_pattern(const char *text)
{
	char	*p, *o;

	if (text == NULL || (p = malloc(2 * strlen(text) + 3)) == NULL)
		return NULL;
	o = p;
	*o++ = '%';
	for (; *text != '\0'; text++) {
		if (*text == '%' || *text == '_' || *text == '\\')
			*o++ = '\\';
		*o++ = *text;
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

const char *
store_log_sql(const struct store_logq *q)
{
	return log_sql[(q->iid != NULL) | (q->feature_id != NULL) << 1 |
	    (q->result != NULL) << 2];
}

int
store_log_find(struct store *s, const struct store_logq *q, size_t max,
    struct store_logent **out, size_t *n)
{
	sqlite3_stmt	*st;
	struct store_logent *v = NULL, *tmp;
	char		*pat;
	double		 below = 1e300;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (q->before > 0 && (rc = entry_at(s, q->before, &below)) != 0)
		return rc;
	if ((st = store_stmt(s, store_log_sql(q))) == NULL)
		return -1;
	if ((pat = like_pattern(q->text)) == NULL && q->text != NULL)
		return -1;
	sqlite3_bind_double(st, 1, q->from);
	sqlite3_bind_double(st, 2, q->to > 0 ? q->to : 1e300);
	sqlite3_bind_double(st, 3, below);
	sqlite3_bind_int64(st, 4, q->before > 0 ? q->before : INT64_MAX);
	store_bind_text(st, 5, q->iid);
	store_bind_text(st, 6, q->feature_id);
	store_bind_text(st, 7, q->result);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)max);
	store_bind_text(st, 9, q->actor);
	store_bind_text(st, 10, pat);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((tmp = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			break;
		v = tmp;
		if (read_logent(st, &v[*n]) == -1) {
			store_logents_free(v, *n + 1);
			v = NULL;
			*n = 0;
			break;
		}
		(*n)++;
	}
	sqlite3_reset(st);
	free(pat);
	if (rc != SQLITE_DONE) {
		store_logents_free(v, *n);
		*n = 0;
		return rc == SQLITE_ROW ? -1 : store_fail(s, "log find");
	}
	*out = v;
	return 0;
}

void
store_logents_free(struct store_logent *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++) {
		store_logrow_release(&v[i].r);
		free(v[i].integration_name);
		free(v[i].feature_name);
	}
	free(v);
}
