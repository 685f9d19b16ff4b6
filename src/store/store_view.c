/*
 * store_view: the read-only queries behind the admin pages.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define ISUM_SELECT \
	"SELECT i.id, i.name, i.column_label, i.tracker_url," \
	" i.tracker_project_name, i.tracker_project_url, i.pb_token_tail," \
	" i.tracker_token_tail, i.auth_failed, i.conflict_policy," \
	" i.delete_policy, i.tracker_kind," \
	" i.pb_plugin_id IS NOT NULL, i.pb_webhook_id IS NOT NULL," \
	" i.tracker_hook_id," \
	" (SELECT count(*) FROM link l WHERE l.integration_id = i.id)," \
	" (SELECT count(*) FROM job j WHERE j.integration_id = i.id" \
	"  AND j.state = 'dead')," \
	" (SELECT count(*) FROM job j WHERE j.integration_id = i.id" \
	"  AND j.state != 'dead')," \
	" greatest(coalesce(i.last_sync_at, 0)," \
	"  coalesce((SELECT max(l.last_sync_at) FROM link l" \
	"  WHERE l.integration_id = i.id), 0)," \
	"  coalesce((SELECT max(g.at) FROM sync_log g" \
	"  WHERE g.integration_id = i.id AND g.result = 'ok'), 0))," \
	" i.created_at FROM integration i"

/* Reads one ISUM_SELECT row: 0 or -1. */
static int
read_isum(struct db_stmt *st, struct store_isum *o)
{
	char	**str[] = { &o->name, &o->column_label, &o->tracker_url,
		    &o->tracker_project_name, &o->tracker_project_url,
		    &o->pb_token_tail, &o->tracker_token_tail, &o->auth_failed,
		    &o->conflict_policy, &o->delete_policy, &o->tracker_kind };
	size_t	 i;
	int	 err = 0;

	memset(o, 0, sizeof(*o));
	store_text_fixed(st, 0, o->id, sizeof(o->id));
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		err |= store_text(st, 1 + (int)i, str[i]);
	o->has_plugin = (int)db_column_int64(st, 12);
	o->has_webhook = (int)db_column_int64(st, 13);
	err |= store_text(st, 14, &o->tracker_hook_id);
	o->has_hook = o->tracker_hook_id != NULL;
	o->links = db_column_int64(st, 15);
	o->jobs_dead = db_column_int64(st, 16);
	o->jobs_waiting = db_column_int64(st, 17);
	o->last_ok_at = db_column_double(st, 18);
	o->created_at = db_column_double(st, 19);
	if (err) {
		store_isum_release(o);
		return -1;
	}
	return 0;
}

/*
 * Steps st and collects rows of size elem with read() into a heap array:
 * 0 or -1.  free_fn releases what was read when a later row fails.
 */
static int
collect(struct store *s, struct db_stmt *st, size_t elem,
    int (*read)(struct db_stmt *, void *), void (*free_fn)(void *, size_t),
    void **out, size_t *n, const char *what)
{
	char	*v = NULL, *tmp;
	size_t	 cnt = 0;
	int	 rc;

	*out = NULL;
	*n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if ((tmp = realloc(v, (cnt + 1) * elem)) == NULL)
			goto fail;
		v = tmp;
		if (read(st, v + cnt * elem) == -1)
			goto fail;
		cnt++;
	}
	db_reset(st);
	if (rc != DB_DONE) {
		store_fail(s, what);
		free_fn(v, cnt);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
fail:
	db_reset(st);
	free_fn(v, cnt);
	return -1;
}

static int
read_isum_v(struct db_stmt *st, void *o)
{
	return read_isum(st, o);
}

static void
free_isum_v(void *v, size_t n)
{
	store_isum_free(v, n);
}

int
store_isum_list(struct store *s, struct store_isum **out, size_t *n)
{
	static const char sql[] = ISUM_SELECT " ORDER BY i.created_at, i.id";
	struct db_stmt	*st;
	void		*v;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	rc = collect(s, st, sizeof(**out), read_isum_v, free_isum_v, &v, n,
	    "integration list");
	*out = v;
	return rc;
}

int
store_isum_get(struct store *s, const char *iid, struct store_isum *out)
{
	static const char sql[] = ISUM_SELECT " WHERE i.id = ?";
	struct db_stmt	*st;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	if ((rc = db_step(st)) == DB_ROW)
		rc = read_isum(st, out);
	else
		rc = rc == DB_DONE ? STORE_NOTFOUND :
		    store_fail(s, "integration summary");
	db_reset(st);
	return rc;
}

void
store_isum_release(struct store_isum *o)
{
	free(o->name);
	free(o->column_label);
	free(o->tracker_kind);
	free(o->tracker_url);
	free(o->tracker_project_name);
	free(o->tracker_project_url);
	free(o->pb_token_tail);
	free(o->tracker_token_tail);
	free(o->auth_failed);
	free(o->conflict_policy);
	free(o->delete_policy);
	free(o->tracker_hook_id);
	memset(o, 0, sizeof(*o));
}

void
store_isum_free(struct store_isum *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		store_isum_release(&v[i]);
	free(v);
}

static int
read_link(struct db_stmt *st, void *p)
{
	struct store_link *l = p;
	char	**str[] = { &l->feature_id, &l->state, &l->issue_url,
		    &l->issue_title, &l->issue_state, &l->feature_url,
		    &l->snap_name, &l->issue_key, &l->issue_id };
	size_t	 i;
	int	 err = 0;

	memset(l, 0, sizeof(*l));
	l->id = db_column_int64(st, 0);
	store_text_fixed(st, 1, l->integration_id, sizeof(l->integration_id));
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		err |= store_text(st, 2 + (int)i, str[i]);
	l->last_sync_at = db_column_double(st, 11);
	l->created_at = db_column_double(st, 12);
	if (err) {
		store_link_release(l);
		return -1;
	}
	return 0;
}

static void
free_links_v(void *v, size_t n)
{
	store_links_free(v, n);
}

int
store_link_page(struct store *s, const char *iid, long long before,
    size_t max, struct store_link **out, size_t *n)
{
	static const char sql[] = "SELECT id, integration_id, feature_id,"
	    " state, issue_url, issue_title, issue_state, feature_url,"
	    " snap_name, issue_key, issue_id,"
	    " coalesce(last_sync_at, 0), created_at FROM link"
	    " WHERE integration_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
	struct db_stmt	*st;
	void		*v;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	db_bind_int64(st, 3, (int64_t)max);
	rc = collect(s, st, sizeof(**out), read_link, free_links_v, &v, n,
	    "link page");
	*out = v;
	return rc;
}

void
store_links_free(struct store_link *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		store_link_release(&v[i]);
	free(v);
}

int
store_logrow_read(struct db_stmt *st, int col, struct store_logrow *r)
{
	char	**str[] = { &r->actor, &r->action, &r->feature_id,
		    &r->issue_ref, &r->result, &r->detail };
	size_t	 i;
	int	 err = 0;

	memset(r, 0, sizeof(*r));
	r->id = db_column_int64(st, col);
	r->at = db_column_double(st, col + 1);
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		err |= store_text(st, col + 2 + (int)i, str[i]);
	if (err) {
		store_logrow_release(r);
		return -1;
	}
	return 0;
}

void
store_logrow_release(struct store_logrow *r)
{
	free(r->actor);
	free(r->action);
	free(r->feature_id);
	free(r->issue_ref);
	free(r->result);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}

static int
read_logrow(struct db_stmt *st, void *p)
{
	return store_logrow_read(st, 0, p);
}

static void
free_logrows_v(void *v, size_t n)
{
	store_logrows_free(v, n);
}

int
store_log_page(struct store *s, const char *iid, long long before,
    size_t max, struct store_logrow **out, size_t *n)
{
	static const char sql[] = "SELECT id, at, actor, action, feature_id,"
	    " issue_ref, result, detail FROM sync_log"
	    " WHERE integration_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
	struct db_stmt	*st;
	void		*v;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	db_bind_int64(st, 3, (int64_t)max);
	rc = collect(s, st, sizeof(**out), read_logrow, free_logrows_v, &v, n,
	    "log page");
	*out = v;
	return rc;
}

void
store_logrows_free(struct store_logrow *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		store_logrow_release(&v[i]);
	free(v);
}

static int
read_job(struct db_stmt *st, void *p)
{
	struct store_job *j = p;
	int	 err = 0;

	memset(j, 0, sizeof(*j));
	j->id = db_column_int64(st, 0);
	store_text_fixed(st, 1, j->integration_id, sizeof(j->integration_id));
	err |= store_text(st, 2, &j->kind);
	err |= store_text(st, 3, &j->key);
	j->attempts = db_column_int64(st, 4);
	err |= store_text(st, 5, &j->last_error);
	j->run_at = db_column_double(st, 6);
	err |= store_text(st, 7, &j->state);
	if (err) {
		store_job_release(j);
		return -1;
	}
	return 0;
}

static void
free_jobs_v(void *v, size_t n)
{
	store_jobs_free(v, n);
}

/* run_at of each job holds the time it died (its updated_at). */
int
store_job_dead_list(struct store *s, const char *iid, size_t max,
    struct store_job **out, size_t *n)
{
	static const char sql[] = "SELECT id, integration_id, kind, key,"
	    " attempts, last_error, updated_at, state FROM job"
	    " WHERE integration_id = ? AND state = 'dead'"
	    " ORDER BY id DESC LIMIT ?";
	struct db_stmt	*st;
	void		*v;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_int64(st, 2, (int64_t)max);
	rc = collect(s, st, sizeof(**out), read_job, free_jobs_v, &v, n,
	    "dead jobs");
	*out = v;
	return rc;
}

void
store_jobs_free(struct store_job *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		store_job_release(&v[i]);
	free(v);
}
