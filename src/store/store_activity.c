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
kind_of(const char *k)
{
	int	 i;

	for (i = 0; k != NULL && i < STORE_ACT_N; i++)
		if (strcmp(k, store_act_kinds[i]) == 0)
			return i;
	return -1;
}

int
store_activity_add(struct store *s, const char *iid, enum store_act kind,
    double at)
{
	static const char sql[] = "INSERT INTO activity (integration_id,"
	    " hour, kind, n) VALUES (?, ?, ?, 1)"
	    " ON CONFLICT (integration_id, hour, kind) DO UPDATE"
	    " SET n = activity.n + 1";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_int64(st, 2, (int64_t)(at / 3600));
	db_bind_text(st, 3, store_act_kinds[kind]);
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
	struct db_stmt	*st;
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
	db_bind_int64(st, 1, out->from_hour);
	db_bind_int64(st, 2, width);
	db_bind_int64(st, 3, end_hour);
	if (iid != NULL)
		db_bind_text(st, 4, iid);
	while ((rc = db_step(st)) == DB_ROW) {
		k = kind_of(db_column_text(st, 0));
		b = db_column_int64(st, 1);
		if (k < 0 || b < 0 || b >= nb)
			continue;
		out->n[k][b] += db_column_int64(st, 2);
		out->total[k] += db_column_int64(st, 2);
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : store_fail(s, "activity series");
}

/*
 * Finds iid in the sorted array v of n entries of size elem whose first
 * member is the integration id, appending a zeroed one (kept sorted by
 * the queries' ORDER BY) when the last is another: the entry, or NULL.
 */
static void *
entry(void **v, size_t *n, size_t elem, const char *iid)
{
	char	*p = *v, *tmp;

	if (iid == NULL)
		return NULL;
	if (*n > 0 && strcmp(p + (*n - 1) * elem, iid) == 0)
		return p + (*n - 1) * elem;
	if ((tmp = realloc(p, (*n + 1) * elem)) == NULL)
		return NULL;
	*v = tmp;
	p = tmp + (*n)++ * elem;
	memset(p, 0, elem);
	snprintf(p, 33, "%s", iid);
	return p;
}

int
store_activity_totals(struct store *s, long long from_hour, long long to_hour,
    struct store_acttotal **out, size_t *n)
{
	static const char sql[] = "SELECT integration_id, kind, sum(n)"
	    " FROM activity WHERE hour >= ? AND hour < ?"
	    " GROUP BY 1, 2 ORDER BY 1";
	struct db_stmt	*st;
	struct store_acttotal *t;
	void		*v = NULL;
	int		 rc, k;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_int64(st, 1, from_hour);
	db_bind_int64(st, 2, to_hour);
	while ((rc = db_step(st)) == DB_ROW) {
		if ((t = entry(&v, n, sizeof(*t),
		    db_column_text(st, 0))) == NULL)
			break;
		if ((k = kind_of(db_column_text(st, 1))) >= 0)
			t->n[k] = db_column_int64(st, 2);
	}
	db_reset(st);
	*out = v;
	if (rc != DB_DONE) {
		free(v);
		*out = NULL;
		*n = 0;
		return rc == DB_ROW ? -1 : store_fail(s, "activity totals");
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
	    " count(CASE WHEN state = 'ready' AND attempts = 0 THEN 1 END),"
	    " count(CASE WHEN state = 'ready' AND attempts > 0 THEN 1 END),"
	    " count(CASE WHEN state = 'leased' THEN 1 END),"
	    " count(CASE WHEN state = 'dead' THEN 1 END),"
	    " min(CASE WHEN state != 'dead' THEN created_at END),"
	    " min(CASE WHEN state = 'ready' AND run_at <= ? THEN run_at END)"
	    " FROM job GROUP BY 1 ORDER BY 1";
	struct db_stmt	*st;
	struct store_queue *q;
	void		*v = NULL;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_double(st, 1, now);
	while ((rc = db_step(st)) == DB_ROW) {
		if ((q = entry(&v, n, sizeof(*q),
		    db_column_text(st, 0))) == NULL)
			break;
		q->queued = db_column_int64(st, 1);
		q->retrying = db_column_int64(st, 2);
		q->leased = db_column_int64(st, 3);
		q->buried = db_column_int64(st, 4);
		q->oldest = db_column_double(st, 5);
		q->due_since = db_column_double(st, 6);
	}
	db_reset(st);
	*out = v;
	if (rc != DB_DONE) {
		free(v);
		*out = NULL;
		*n = 0;
		return rc == DB_ROW ? -1 : store_fail(s, "queue stats");
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
 * the sync log the outer loop, so no sort is needed.  Both are SQLite's
 * hints: PostgreSQL has neither (its planner weighs the indexes itself),
 * so its texts are the same without them.
 */
#define LOG_SELECT(join) \
	"SELECT g.id, g.at, g.actor, g.action, g.feature_id, g.issue_ref," \
	" g.result, g.detail, g.integration_id, i.name, l.id, l.snap_name" \
	" FROM sync_log g " join " integration i ON i.id = g.integration_id" \
	" LEFT JOIN link l ON l.integration_id = g.integration_id" \
	" AND l.feature_id = g.feature_id" \
	" WHERE g.at >= ?1 AND g.at < ?2 AND g.at <= ?3" \
	" AND (g.at < ?3 OR g.id < ?4)"
/*
 * Who and the text have no index: they filter the rows the index gives in
 * page order, so a page reads rows until it has max of them (a rare text
 * may read far into the log; the LIMIT still ends the scan at a page).
 * SQLite compares the name without case (NOCASE) and its LIKE ignores
 * case; PostgreSQL's lower() and ILIKE do the same, and it is told the
 * type of ?9 and ?10 where it first meets them.
 */
#define LOG_ORDER(who, text, like) \
	" AND (" who ")" \
	" AND (" text " IS NULL OR g.detail " like " ?10 ESCAPE '\\'" \
	" OR g.feature_id " like " ?10 ESCAPE '\\'" \
	" OR l.snap_name " like " ?10 ESCAPE '\\')" \
	" ORDER BY g.at DESC, g.id DESC LIMIT ?8"
#define LOG_ORDER_SQLITE \
	LOG_ORDER("?9 IS NULL OR g.actor = ?9 COLLATE NOCASE", "?10", "LIKE")
#define LOG_ORDER_PG LOG_ORDER("CAST(?9 AS TEXT) IS NULL" \
	" OR lower(g.actor) = lower(?9)", "CAST(?10 AS TEXT)", "ILIKE")
#define BY_IID(plus) " AND " plus "g.integration_id = ?5"
#define BY_FID " AND g.feature_id = ?6"
#define BY_RES(plus) " AND " plus "g.result = ?7"
#define LOG_SQL(join, also, order) { \
	LOG_SELECT(join) order, \
	LOG_SELECT(join) BY_IID("") order, \
	LOG_SELECT(join) BY_FID order, \
	LOG_SELECT(join) BY_IID(also) BY_FID order, \
	LOG_SELECT(join) BY_RES("") order, \
	LOG_SELECT(join) BY_IID("") BY_RES("") order, \
	LOG_SELECT(join) BY_FID BY_RES(also) order, \
	LOG_SELECT(join) BY_IID(also) BY_FID BY_RES(also) order, \
}

/*
 * SQLite's, then PostgreSQL's; each indexed by (integration ? 1 : 0) |
 * (feature ? 2 : 0) | (result ? 4 : 0).
 */
static const char *const log_sql[2][8] = {
	LOG_SQL("CROSS JOIN", "+", LOG_ORDER_SQLITE),
	LOG_SQL("JOIN", "", LOG_ORDER_PG),
};

static int
read_logent(struct db_stmt *st, struct store_logent *e)
{
	memset(e, 0, sizeof(*e));
	if (store_logrow_read(st, 0, &e->r) == -1)
		return -1;
	store_text_fixed(st, 8, e->integration_id, sizeof(e->integration_id));
	e->link_id = db_column_int64(st, 10);
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
	struct db_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	if ((rc = db_step(st)) == DB_ROW)
		*at = db_column_double(st, 0);
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? STORE_NOTFOUND : store_fail(s, "log entry");
}

static const char *
log_text(int pg, const struct store_logq *q)
{
	return log_sql[pg][(q->iid != NULL) | (q->feature_id != NULL) << 1 |
	    (q->result != NULL) << 2];
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
	return log_text(0, q);
}

int
store_log_find(struct store *s, const struct store_logq *q, size_t max,
    struct store_logent **out, size_t *n)
{
	struct db_stmt	*st;
	struct store_logent *v = NULL, *tmp;
	char		*pat;
	double		 below = 1e300;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (q->before > 0 && (rc = entry_at(s, q->before, &below)) != 0)
		return rc;
	if ((st = store_stmt(s, log_text(s->pg, q))) == NULL)
		return -1;
	if ((pat = like_pattern(q->text)) == NULL && q->text != NULL)
		return -1;
	db_bind_double(st, 1, q->from);
	db_bind_double(st, 2, q->to > 0 ? q->to : 1e300);
	db_bind_double(st, 3, below);
	db_bind_int64(st, 4, q->before > 0 ? q->before : INT64_MAX);
	db_bind_text(st, 5, q->iid);
	db_bind_text(st, 6, q->feature_id);
	db_bind_text(st, 7, q->result);
	db_bind_int64(st, 8, (int64_t)max);
	db_bind_text(st, 9, q->actor);
	db_bind_text(st, 10, pat);
	while ((rc = db_step(st)) == DB_ROW) {
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
	db_reset(st);
	free(pat);
	if (rc != DB_DONE) {
		store_logents_free(v, *n);
		*n = 0;
		return rc == DB_ROW ? -1 : store_fail(s, "log find");
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
