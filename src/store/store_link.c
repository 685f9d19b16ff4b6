#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "store/store_int.h"

#define COLUMNS \
	"id, integration_id, feature_id, state, issue_id, issue_ref," \
	" issue_key, issue_url, issue_title, issue_state, feature_url," \
	" snap_name, snap_pb_desc, snap_tracker_desc, snap_status, snap_state," \
	" pushed_by, created_at, last_sync_at, updated_at, pending"

static int
read_row(struct db_stmt *st, struct store_link *l)
{
	/* The columns from 2 on, in the order of COLUMNS. */
	char	**str[] = { &l->feature_id, &l->state, &l->issue_id,
		    &l->issue_ref, &l->issue_key, &l->issue_url,
		    &l->issue_title, &l->issue_state, &l->feature_url,
		    &l->snap_name, &l->snap_pb_desc, &l->snap_tracker_desc,
		    &l->snap_status, &l->snap_state, &l->pushed_by };
	size_t	 i;
	int	 err = 0;

	l->id = db_column_int64(st, 0);
	store_text_fixed(st, 1, l->integration_id, sizeof(l->integration_id));
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		err |= store_text(st, 2 + (int)i, str[i]);
	l->created_at = db_column_double(st, 17);
	l->last_sync_at = db_column_double(st, 18);
	l->updated_at = db_column_double(st, 19);
	err |= store_text(st, 20, &l->pending);
	if (err) {
		store_link_release(l);
		return -1;
	}
	return 0;
}

/* Steps a one-row SELECT into l: 0, STORE_NOTFOUND or -1. */
static int
get_one(struct store *s, struct db_stmt *st, struct store_link *l)
{
	int	 rc;

	memset(l, 0, sizeof(*l));
	rc = db_step(st);
	if (rc == DB_ROW)
		rc = read_row(st, l);
	else if (rc == DB_DONE)
		rc = STORE_NOTFOUND;
	else
		rc = store_fail(s, "link get");
	db_reset(st);
	return rc;
}

int
store_link_get(struct store *s, const char *iid, const char *fid,
    struct store_link *l)
{
	static const char sql[] = "SELECT " COLUMNS " FROM link"
	    " WHERE integration_id = ? AND feature_id = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_text(st, 2, fid);
	return get_one(s, st, l);
}

int
store_link_get_by_issue(struct store *s, const char *iid,
    const char *issue_id, struct store_link *l)
{
	static const char sql[] = "SELECT " COLUMNS " FROM link"
	    " WHERE integration_id = ? AND issue_id = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_text(st, 2, issue_id);
	return get_one(s, st, l);
}

int
store_link_get_by_id(struct store *s, long long id, struct store_link *l)
{
	static const char sql[] = "SELECT " COLUMNS " FROM link WHERE id = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	return get_one(s, st, l);
}

int
store_link_claim(struct store *s, const char *iid, const char *fid,
    const char *actor, struct store_link *l)
{
	static const char sql[] = "INSERT INTO link (integration_id,"
	    " feature_id, pushed_by, created_at, updated_at)"
	    " VALUES (?, ?, ?, ?4, ?4) ON CONFLICT DO NOTHING";
	struct db_stmt	*st;
	int		 rc, fresh;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_text(st, 2, fid);
	db_bind_text(st, 3, actor != NULL ? actor : "");
	db_bind_double(st, 4, util_now());
	if ((rc = store_exec_stmt(s, st, "link claim")) != 0)
		return rc;
	fresh = db_changes(s->conn) == 1;
	if ((rc = store_link_get(s, iid, fid, l)) != 0)
		return rc == STORE_NOTFOUND ? -1 : rc;
	return fresh ? 0 : STORE_EXISTS;
}

/* Binds the mutable columns of l in the order both updates use. */
static void
bind_mutable(struct db_stmt *st, const struct store_link *l)
{
	db_bind_int64(st, 1, l->id);
	db_bind_text(st, 2, l->issue_id);
	db_bind_text(st, 3, l->issue_ref);
	db_bind_text(st, 4, l->issue_key);
	db_bind_text(st, 5, l->issue_url);
	db_bind_text(st, 6, l->issue_title);
	db_bind_text(st, 7, l->issue_state);
	db_bind_text(st, 8, l->feature_url);
	db_bind_text(st, 9, l->snap_name);
	db_bind_text(st, 10, l->snap_pb_desc);
	db_bind_text(st, 11, l->snap_tracker_desc);
	db_bind_text(st, 12, l->snap_status);
	db_bind_text(st, 13, l->snap_state);
	db_bind_double(st, 14, util_now());
}

/* The columns a push or a sync writes; ?15 = 1 also marks it linked. */
#define LINK_UPDATE_SQL "UPDATE link SET" \
	" state = CASE WHEN ?15 THEN 'linked' ELSE state END," \
	" issue_id = ?2, issue_ref = ?3, issue_key = ?4," \
	" issue_url = ?5, issue_title = ?6, issue_state = ?7," \
	" feature_url = ?8, snap_name = ?9, snap_pb_desc = ?10," \
	" snap_tracker_desc = ?11, snap_status = ?12, snap_state = ?13," \
	" pending = NULL, updated_at = ?14, last_sync_at = ?14 WHERE id = ?1"

/*
 * A sync round writes the link only while it holds the lock: one past its
 * deadline, whose lock another round took over, would save its stale
 * snapshot over the new holder's (model/README.md, bug 3).
 */
#define HELD(n)		" AND lock_until = ?" #n

/* The end of a write under the lock: STORE_NOTFOUND, logged, if lost. */
static int
held(struct store *s, int rc, long long id, const char *what)
{
	if (rc != 0 || db_changes(s->conn) > 0)
		return rc;
	log_warn("link %lld: lock taken over, this round's %s not saved", id,
	    what);
	return STORE_NOTFOUND;
}

static int
link_update(struct store *s, const struct store_link *l, int linked)
{
	struct db_stmt	*st;

	if ((st = store_stmt(s, linked ? LINK_UPDATE_SQL :
	    LINK_UPDATE_SQL HELD(16))) == NULL)
		return -1;
	bind_mutable(st, l);
	db_bind_int64(st, 15, linked);
	if (linked)
		return store_exec_stmt(s, st, "link set issue");
	db_bind_double(st, 16, l->lock_until);
	return held(s, store_exec_stmt(s, st, "link set snapshot"), l->id,
	    "snapshot");
}

int
store_link_set_issue(struct store *s, const struct store_link *l)
{
	return link_update(s, l, 1);
}

/* Kept apart from set_issue so that a sync never flips a pending link. */
int
store_link_set_snapshot(struct store *s, const struct store_link *l)
{
	return link_update(s, l, 0);
}

int
store_link_delete(struct store *s, long long id)
{
	static const char sql[] = "DELETE FROM link WHERE id = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	return store_exec_stmt(s, st, "link delete");
}

int
store_link_ids(struct store *s, const char *iid, long long after, size_t max,
    long long *ids, size_t *n)
{
	static const char sql[] = "SELECT id FROM link WHERE integration_id = ?"
	    " AND id > ? AND state = 'linked' ORDER BY id LIMIT ?";
	struct db_stmt	*st;
	int		 rc;

	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_int64(st, 2, after);
	db_bind_int64(st, 3, (int64_t)max);
	while ((rc = db_step(st)) == DB_ROW && *n < max)
		ids[(*n)++] = db_column_int64(st, 0);
	db_reset(st);
	return rc == DB_DONE || rc == DB_ROW ? 0 :
	    store_fail(s, "link ids");
}

int
store_link_touch(struct store *s, long long id, double t)
{
	static const char sql[] = "UPDATE link SET updated_at = ? WHERE id = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_double(st, 1, t);
	db_bind_int64(st, 2, id);
	return store_exec_stmt(s, st, "link touch");
}

int
store_link_lock(struct store *s, long long id, double now, double until)
{
	static const char sql[] = "UPDATE link SET lock_until = ?3"
	    " WHERE id = ?1 AND (lock_until IS NULL OR lock_until < ?2)";
	struct db_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	db_bind_double(st, 2, now);
	db_bind_double(st, 3, until);
	if ((rc = store_exec_stmt(s, st, "link lock")) != 0)
		return rc;
	return db_changes(s->conn) == 1 ? 0 : STORE_EXISTS;
}

int
store_link_unlock(struct store *s, long long id, double until)
{
	/* Another round's lock, taken after this one ran out, stays. */
	static const char sql[] = "UPDATE link SET lock_until = NULL"
	    " WHERE id = ?1" HELD(2);
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	db_bind_double(st, 2, until);
	return store_exec_stmt(s, st, "link unlock");
}

void
store_link_release(struct store_link *l)
{
	free(l->feature_id);
	free(l->state);
	free(l->issue_id);
	free(l->issue_ref);
	free(l->issue_key);
	free(l->issue_url);
	free(l->issue_title);
	free(l->issue_state);
	free(l->feature_url);
	free(l->snap_name);
	free(l->snap_pb_desc);
	free(l->snap_tracker_desc);
	free(l->snap_status);
	free(l->snap_state);
	free(l->pushed_by);
	free(l->pending);
	memset(l, 0, sizeof(*l));
}

int
store_link_set_pending(struct store *s, const struct store_link *l,
    const char *pending)
{
	static const char sql[] = "UPDATE link SET pending = ?2"
	    " WHERE id = ?1" HELD(3);
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_int64(st, 1, l->id);
	db_bind_text(st, 2, pending);
	db_bind_double(st, 3, l->lock_until);
	return held(s, store_exec_stmt(s, st, "link set pending"), l->id,
	    "record of its writes");
}
