/*
 * store_activity: the dashboard's hourly counts, the queue's depth, and
 * the sync log's filtered keyset pages, with the query plan of each
 * filter (an index in page order, no sort, no scan of the whole log).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/db.h"
#include "store/store.h"
#include "t.h"
#include "tstore.h"

#define IID	"0123456789abcdef0123456789abcdef"
#define IID2	"fedcba9876543210fedcba9876543210"

static void
exec(struct store *s, const char *sql)
{
	if (db_exec(s->conn, sql) != 0)
		printf("# %s: %s\n", sql, db_errmsg(s->conn));
}

static void
integration(struct store *s, const char *id)
{
	char	 sql[1024];

	snprintf(sql, sizeof(sql), "INSERT INTO integration (id, name,"
	    " column_label, pb_token, pb_token_tail, tracker_kind, tracker_url,"
	    " tracker_token, tracker_token_tail, tracker_project,"
	    " tracker_project_name, plugin_secret, pb_hook_secret,"
	    " tracker_hook_secret, created_at, updated_at) VALUES ('%s', 'I',"
	    " 'C', 'p', 'p', 'gitlab', 'u', 't', 't', '1', 'g/p', 's', 's',"
	    " 's', 1, 1)", id);
	exec(s, sql);
}

/* A sync log row at time at. */
static void
entry(struct store *s, const char *iid, double at, const char *fid,
    const char *action, const char *result)
{
	char	 sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO sync_log (integration_id, at,"
	    " action, feature_id, result) VALUES ('%s', %.3f, '%s', '%s',"
	    " '%s')", iid, at, action, fid, result);
	exec(s, sql);
}

/* The query plan of q's statement, its lines joined by "; ". */
static const char *
plan(struct store *s, const struct store_logq *q)
{
	static char	 out[1024];
	char		 sql[2048];
	sqlite3_stmt	*st;
	size_t		 n = 0;

	out[0] = '\0';
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", store_log_sql(q));
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return "(bad query)";
	while (sqlite3_step(st) == SQLITE_ROW && n < sizeof(out))
		n += snprintf(out + n, sizeof(out) - n, "%s; ",
		    (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	return out;
}

static void
plans(struct store *s)
{
	static const struct {
		int		 iid, fid, res;
		const char	*index;
	} want[] = {
		{ 0, 0, 0, "sync_log_at" },
		{ 1, 0, 0, "sync_log_time" },
		{ 0, 1, 0, "sync_log_feature" },
		{ 1, 1, 0, "sync_log_feature" },
		{ 0, 0, 1, "sync_log_outcome" },
		{ 1, 0, 1, "sync_log_result" },
		{ 0, 1, 1, "sync_log_feature" },
		{ 1, 1, 1, "sync_log_feature" },
	};
	struct store_logq q;
	const char	*p;
	char		 use[64];
	size_t		 i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		memset(&q, 0, sizeof(q));
		q.iid = want[i].iid ? IID : NULL;
		q.feature_id = want[i].fid ? "f" : NULL;
		q.result = want[i].res ? "ok" : NULL;
		/* Who and the text filter the same index's rows. */
		q.actor = i % 2 ? "pbsync" : NULL;
		q.text = i % 3 ? "x" : NULL;
		p = plan(s, &q);
		snprintf(use, sizeof(use), "g USING INDEX %s ", want[i].index);
		if (!CHECK(strstr(p, use) != NULL) ||
		    !CHECK(strstr(p, "TEMP B-TREE") == NULL))
			printf("# filter %zu: %s\n", i, p);
	}
}

/* Pages of 2 through q; the ids in order, as a string. */
static const char *
walk(struct store *s, struct store_logq q)
{
	static char	 out[256];
	struct store_logent *e;
	size_t		 n, i, len = 0;
	int		 pages = 0;

	out[0] = '\0';
	do {
		if (store_log_find(s, &q, 2, &e, &n) != 0)
			return "(error)";
		for (i = 0; i < n; i++)
			len += snprintf(out + len, sizeof(out) - len, "%lld ",
			    e[i].r.id);
		q.before = n > 0 ? e[n - 1].r.id : 0;
		store_logents_free(e, n);
	} while (n == 2 && ++pages < 20);
	return out;
}

static void
paging(struct store *s)
{
	struct store_logq q;

	/* Ids 1..5 share one time, 6 is older, 7 newer. */
	entry(s, IID2, 5000, "p", "sync", "ok");
	entry(s, IID2, 5000, "p", "sync", "error");
	entry(s, IID2, 5000, "p", "sync", "ok");
	entry(s, IID2, 5000, "p", "push", "ok");
	entry(s, IID2, 5000, "p", "sync", "conflict");
	entry(s, IID2, 4000, "p", "sync", "ok");
	entry(s, IID2, 6000, "p", "sync", "ok");
	memset(&q, 0, sizeof(q));
	q.iid = IID2;
	CHECK_STR(walk(s, q), "7 5 4 3 2 1 6 ");
	q.result = "ok";
	CHECK_STR(walk(s, q), "7 4 3 1 6 ");
	q.result = NULL;
	q.from = 4000.5;
	q.to = 6000;
	CHECK_STR(walk(s, q), "5 4 3 2 1 ");
	q.from = q.to = 0;
	q.feature_id = "none";
	CHECK_STR(walk(s, q), "");
	q.feature_id = NULL;
	q.before = 99;
	CHECK_INT(store_log_find(s, &q, 2, &(struct store_logent *){ NULL },
	    &(size_t){ 0 }), STORE_NOTFOUND);
}

/* Who matches whole and in any case; the text's %, _ and \\ are literal. */
static void
search(struct store *s)
{
	struct store_logq q;

	/* Ids 8..13, newest first by id. */
	exec(s, "INSERT INTO sync_log (integration_id, at, actor, action,"
	    " feature_id, result, detail) VALUES"
	    " ('" IID2 "', 7000, 'pbsync', 'sync', 'q', 'ok', 'name to gitlab'),"
	    " ('" IID2 "', 7001, 'Jane <j@x>', 'push', 'q', 'ok', '50% off'),"
	    " ('" IID2 "', 7002, 'jane <J@X>', 'push', 'q', 'ok', '50 off'),"
	    " ('" IID2 "', 7003, 'Jane', 'push', 'r', 'ok', 'a_b\\c'),"
	    " ('" IID2 "', 7004, 'pbsync', 'sync', 'q', 'ok', 'axb'),"
	    " ('" IID2 "', 7005, 'pbsync', 'sync', 'Road', 'ok', 'GitLab')");
	memset(&q, 0, sizeof(q));
	q.iid = IID2;
	q.from = 7000;
	q.actor = "JANE <j@x>";
	CHECK_STR(walk(s, q), "10 9 ");
	q.actor = "jan";
	CHECK_STR(walk(s, q), "");
	q.actor = NULL;
	q.text = "gitlab";
	CHECK_STR(walk(s, q), "13 8 ");
	q.text = "0%";
	CHECK_STR(walk(s, q), "9 ");
	q.text = "a_b";
	CHECK_STR(walk(s, q), "11 ");
	q.text = "b\\c";
	CHECK_STR(walk(s, q), "11 ");
	q.text = "\\";
	CHECK_STR(walk(s, q), "11 ");
	q.text = "oad";			/* the feature id */
	CHECK_STR(walk(s, q), "13 ");
	q.actor = "pbsync";
	q.text = "a";
	CHECK_STR(walk(s, q), "13 12 8 ");
}

static void
counts(struct store *s)
{
	struct store_series sr;
	struct store_acttotal *t;
	struct store_queue *q;
	size_t		 n;
	double		 h = 3600;
	long long	 b = (long long)(time(NULL) / 3600) - 24;

	/*
	 * Hours b and b + 5: one bucket of 6 hours from b; b + 6 the next.
	 * (Hours older than 32 days are dropped: these are recent.)
	 */
	entry(s, IID, b * h + 5, "f", "sync", "conflict");
	entry(s, IID, (b + 5) * h + 3599, "f", "push", "ok");
	entry(s, IID, (b + 6) * h, "f", "push", "error");
	entry(s, IID, (b + 6) * h, "f", "unlink", "ok");
	CHECK_INT(store_activity_add(s, IID, STORE_ACT_DELIVERY, (b - 1) * h),
	    0);
	CHECK_INT(store_activity_add(s, IID2, STORE_ACT_DELIVERY, (b + 1) * h),
	    0);
	CHECK_INT(store_activity_series(s, IID, b + 12, 6, 2, &sr), 0);
	CHECK_INT(sr.from_hour, b);
	CHECK_INT(sr.n[STORE_ACT_SYNC][0], 1);
	CHECK_INT(sr.n[STORE_ACT_CONFLICT][0], 1);
	CHECK_INT(sr.n[STORE_ACT_PUSH][0], 1);
	CHECK_INT(sr.n[STORE_ACT_FAILURE][1], 1);
	CHECK_INT(sr.total[STORE_ACT_PUSH], 1);
	CHECK_INT(sr.total[STORE_ACT_DELIVERY], 0);	/* hour b - 1 */
	CHECK_INT(store_activity_series(s, NULL, b + 12, 6, 2, &sr), 0);
	CHECK_INT(sr.n[STORE_ACT_DELIVERY][0], 1);	/* the other's */
	CHECK_INT(store_activity_series(s, NULL, b + 12, 6,
	    STORE_ACT_BUCKETS + 1, &sr), -1);
	CHECK_INT(store_activity_totals(s, b - 1, b + 7, &t, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(t[0].integration_id, IID);
		CHECK_INT(t[0].n[STORE_ACT_DELIVERY], 1);
		CHECK_INT(t[0].n[STORE_ACT_PUSH], 1);
		CHECK_INT(t[1].n[STORE_ACT_DELIVERY], 1);
	}
	free(t);

	exec(s, "INSERT INTO job (integration_id, kind, key, state, attempts,"
	    " run_at, created_at, updated_at) VALUES"
	    " ('" IID "', 'sync', 'a', 'ready', 0, 50, 40, 40),"
	    " ('" IID "', 'sync', 'b', 'ready', 2, 500, 30, 30),"
	    " ('" IID "', 'sync', 'c', 'leased', 1, 10, 20, 20),"
	    " ('" IID "', 'sync', 'd', 'dead', 8, 10, 10, 10),"
	    " ('" IID2 "', 'push', 'e', 'ready', 0, 70, 60, 60)");
	CHECK_INT(store_queue_stats(s, 100, &q, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(q[0].queued, 1);
		CHECK_INT(q[0].retrying, 1);
		CHECK_INT(q[0].leased, 1);
		CHECK_INT(q[0].buried, 1);
		CHECK(q[0].oldest == 20);	/* not the dead one */
		CHECK(q[0].due_since == 50);	/* b is not due yet */
		CHECK_STR(q[1].integration_id, IID2);
		CHECK_INT(q[1].queued, 1);
	}
	free(q);
	/* A failed attempt counts, a lease given back does not. */
	exec(s, "UPDATE job SET state = 'ready', run_at = 1e10"
	    " WHERE key = 'c'");
	exec(s, "UPDATE job SET state = 'leased' WHERE key = 'a'");
	exec(s, "UPDATE job SET state = 'ready', attempts = attempts - 1"
	    " WHERE key = 'a'");
	CHECK_INT(store_activity_totals(s, 0, 1L << 40, &t, &n), 0);
	CHECK(n >= 1 && t[0].n[STORE_ACT_FAILURE] == 2);
	free(t);
}

int
main(void)
{
	struct store	 s;

	memset(&s, 0, sizeof(s));
	if (!CHECK(store_open(&s, t_store_where(":memory:")) == 0))
		return t_done();
	integration(&s, IID);
	integration(&s, IID2);
	/* The plans are SQLite's: PostgreSQL's planner chooses its own. */
	if (!t_store_pg())
		plans(&s);
	paging(&s);
	search(&s);
	counts(&s);
	store_close(&s);
	t_store_done();
	return t_done();
}
