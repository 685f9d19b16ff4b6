#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"

#define CHANNEL_COLUMNS "integration_id, type, url, url_tail, secret," \
	" old_secret, old_secret_until, events, active, failures," \
	" last_error, last_sent_at, created_at, updated_at"

static int
read_row(struct db_stmt *st, struct store_channel *c)
{
	memset(c, 0, sizeof(*c));
	store_text_fixed(st, 0, c->integration_id, sizeof(c->integration_id));
	store_text_fixed(st, 1, c->type, sizeof(c->type));
	store_text_fixed(st, 3, c->url_tail, sizeof(c->url_tail));
	c->old_secret_until = db_column_double(st, 6);
	c->active = (int)db_column_int64(st, 8);
	c->failures = db_column_int64(st, 9);
	c->last_sent_at = db_column_double(st, 11);
	c->created_at = db_column_double(st, 12);
	c->updated_at = db_column_double(st, 13);
	if (store_text(st, 2, &c->url) == -1 ||
	    store_text(st, 4, &c->secret) == -1 ||
	    store_text(st, 5, &c->old_secret) == -1 ||
	    store_text(st, 7, &c->events) == -1 ||
	    store_text(st, 10, &c->last_error) == -1) {
		store_channel_release(c);
		return -1;
	}
	return 0;
}

int
store_channel_get(struct store *s, const char *iid, const char *type,
    struct store_channel *out)
{
	static const char sql[] = "SELECT " CHANNEL_COLUMNS " FROM channel"
	    " WHERE integration_id = ? AND type = ?";
	struct db_stmt	*st;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_text(st, 2, type);
	if ((rc = db_step(st)) == DB_ROW)
		rc = read_row(st, out) == 0 ? 0 : -1;
	else if (rc == DB_DONE)
		rc = STORE_NOTFOUND;
	else
		rc = store_fail(s, "channel get");
	db_reset(st);
	return rc;
}

int
store_channel_list(struct store *s, const char *iid,
    struct store_channel **out, size_t *n)
{
	static const char sql[] = "SELECT " CHANNEL_COLUMNS " FROM channel"
	    " WHERE integration_id = ? ORDER BY type";
	struct db_stmt		*st;
	struct store_channel	*v = NULL, *nv;
	size_t			 len = 0;
	int			 rc, nomem = 0;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	while ((rc = db_step(st)) == DB_ROW) {
		/* At most one row per type: three. */
		if ((nv = realloc(v, (len + 1) * sizeof(*v))) == NULL ||
		    read_row(st, &(v = nv)[len]) == -1) {
			nomem = 1;
			break;
		}
		len++;
	}
	db_reset(st);
	if (nomem || rc != DB_DONE) {
		store_channels_free(v, len);
		return nomem ? -1 : store_fail(s, "channel list");
	}
	*out = v;
	*n = len;
	return 0;
}

int
store_channel_put(struct store *s, const struct store_channel *c, double now)
{
	/*
	 * Connecting a type that exists replaces its URL and filter and
	 * turns it back on; a webhook keeps the secret it was given first.
	 */
	static const char sql[] = "INSERT INTO channel (integration_id, type,"
	    " url, url_tail, secret, events, created_at, updated_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?7, ?7)"
	    " ON CONFLICT (integration_id, type) DO UPDATE SET"
	    " url = excluded.url, url_tail = excluded.url_tail,"
	    " events = excluded.events, active = 1, failures = 0,"
	    " last_error = NULL, updated_at = excluded.updated_at";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, c->integration_id);
	db_bind_text(st, 2, c->type);
	db_bind_text(st, 3, c->url);
	db_bind_text(st, 4, c->url_tail);
	db_bind_text(st, 5, c->secret);
	db_bind_text(st, 6, c->events != NULL ? c->events : "*");
	db_bind_double(st, 7, now);
	return store_exec_stmt(s, st, "channel put");
}

int
store_channel_rotate(struct store *s, const char *iid, const char *type,
    const char *sealed, double old_until, double now)
{
	static const char sql[] = "UPDATE channel SET old_secret = secret,"
	    " old_secret_until = ?, secret = ?, updated_at = ?"
	    " WHERE integration_id = ? AND type = ? AND secret IS NOT NULL";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_double(st, 1, old_until);
	db_bind_text(st, 2, sealed);
	db_bind_double(st, 3, now);
	db_bind_text(st, 4, iid);
	db_bind_text(st, 5, type);
	if (store_exec_stmt(s, st, "channel rotate") != 0)
		return -1;
	return db_changes(s->conn) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_channel_delete(struct store *s, const char *iid, const char *type)
{
	static const char sql[] = "DELETE FROM channel"
	    " WHERE integration_id = ? AND type = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_text(st, 2, type);
	if (store_exec_stmt(s, st, "channel delete") != 0)
		return -1;
	return db_changes(s->conn) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_channel_outcome(struct store *s, const char *iid, const char *type,
    const char *error, int turn_off, double now)
{
	/* PostgreSQL must be told what ?1 is where it is first seen. */
	static const char sql[] = "UPDATE channel SET failures ="
	    " CASE WHEN CAST(?1 AS TEXT) IS NULL THEN 0 ELSE failures + 1 END,"
	    " last_error = ?1,"
	    " last_sent_at = CASE WHEN ?1 IS NULL THEN ?2 ELSE last_sent_at END,"
	    " active = CASE WHEN ?3 THEN 0 ELSE active END"
	    " WHERE integration_id = ?4 AND type = ?5";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, error);
	db_bind_double(st, 2, now);
	db_bind_int64(st, 3, turn_off != 0);
	db_bind_text(st, 4, iid);
	db_bind_text(st, 5, type);
	return store_exec_stmt(s, st, "channel outcome");
}

void
store_channel_release(struct store_channel *c)
{
	free(c->url);
	free(c->secret);
	free(c->old_secret);
	free(c->events);
	free(c->last_error);
	memset(c, 0, sizeof(*c));
}

void
store_channels_free(struct store_channel *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		store_channel_release(&v[i]);
	free(v);
}
