#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

#define CHANNEL_COLUMNS "integration_id, type, url, url_tail, secret," \
	" old_secret, old_secret_until, events, active, failures," \
	" last_error, last_sent_at, created_at, updated_at"

static int
read_row(sqlite3_stmt *st, struct store_channel *c)
{
	memset(c, 0, sizeof(*c));
	store_text_fixed(st, 0, c->integration_id, sizeof(c->integration_id));
	store_text_fixed(st, 1, c->type, sizeof(c->type));
	store_text_fixed(st, 3, c->url_tail, sizeof(c->url_tail));
	c->old_secret_until = sqlite3_column_double(st, 6);
	c->active = sqlite3_column_int(st, 8);
	c->failures = sqlite3_column_int64(st, 9);
	c->last_sent_at = sqlite3_column_double(st, 11);
	c->created_at = sqlite3_column_double(st, 12);
	c->updated_at = sqlite3_column_double(st, 13);
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
	sqlite3_stmt	*st;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, iid);
	store_bind_text(st, 2, type);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rc = read_row(st, out) == 0 ? 0 : -1;
	else if (rc == SQLITE_DONE)
		rc = STORE_NOTFOUND;
	else
		rc = store_fail(s, "channel get");
	sqlite3_reset(st);
	return rc;
}

int
store_channel_list(struct store *s, const char *iid,
    struct store_channel **out, size_t *n)
{
	static const char sql[] = "SELECT " CHANNEL_COLUMNS " FROM channel"
	    " WHERE integration_id = ? ORDER BY type";
	sqlite3_stmt		*st;
	struct store_channel	*v = NULL, *nv;
	size_t			 len = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, iid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* At most one row per type: three. */
		if ((nv = realloc(v, (len + 1) * sizeof(*v))) == NULL ||
		    read_row(st, &(v = nv)[len]) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
		len++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_channels_free(v, len);
		return rc == SQLITE_NOMEM ? -1 : store_fail(s, "channel list");
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
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, c->integration_id);
	store_bind_text(st, 2, c->type);
	store_bind_text(st, 3, c->url);
	store_bind_text(st, 4, c->url_tail);
	store_bind_text(st, 5, c->secret);
	store_bind_text(st, 6, c->events != NULL ? c->events : "*");
	sqlite3_bind_double(st, 7, now);
	return store_exec_stmt(s, st, "channel put");
}

int
store_channel_rotate(struct store *s, const char *iid, const char *type,
    const char *sealed, double old_until, double now)
{
	static const char sql[] = "UPDATE channel SET old_secret = secret,"
	    " old_secret_until = ?, secret = ?, updated_at = ?"
	    " WHERE integration_id = ? AND type = ? AND secret IS NOT NULL";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_double(st, 1, old_until);
	store_bind_text(st, 2, sealed);
	sqlite3_bind_double(st, 3, now);
	store_bind_text(st, 4, iid);
	store_bind_text(st, 5, type);
	if (store_exec_stmt(s, st, "channel rotate") != 0)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_channel_delete(struct store *s, const char *iid, const char *type)
{
	static const char sql[] = "DELETE FROM channel"
	    " WHERE integration_id = ? AND type = ?";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, iid);
	store_bind_text(st, 2, type);
	if (store_exec_stmt(s, st, "channel delete") != 0)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_channel_outcome(struct store *s, const char *iid, const char *type,
    const char *error, int turn_off, double now)
{
	static const char sql[] = "UPDATE channel SET"
	    " failures = CASE WHEN ?1 IS NULL THEN 0 ELSE failures + 1 END,"
	    " last_error = ?1,"
	    " last_sent_at = CASE WHEN ?1 IS NULL THEN ?2 ELSE last_sent_at END,"
	    " active = CASE WHEN ?3 THEN 0 ELSE active END"
	    " WHERE integration_id = ?4 AND type = ?5";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, error);
	sqlite3_bind_double(st, 2, now);
	sqlite3_bind_int(st, 3, turn_off != 0);
	store_bind_text(st, 4, iid);
	store_bind_text(st, 5, type);
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
