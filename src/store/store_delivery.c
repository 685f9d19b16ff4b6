#include "config.h"

#include "store/store_int.h"

/* The cached statement sql with a delivery's key bound as ?1, ?2, ?3. */
static struct db_stmt *
key_stmt(struct store *s, const char *sql, const char *iid,
    const char *source, const char *key)
{
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return NULL;
	db_bind_text(st, 1, iid);
	db_bind_text(st, 2, source);
	db_bind_text(st, 3, key);
	return st;
}

int
store_delivery_seen(struct store *s, const char *iid, const char *source,
    const char *key, double now)
{
	static const char sql[] = "INSERT INTO delivery (integration_id,"
	    " source, key, received_at) VALUES (?, ?, ?, ?)"
	    " ON CONFLICT DO NOTHING";
	struct db_stmt	*st;
	int		 rc;

	if ((st = key_stmt(s, sql, iid, source, key)) == NULL)
		return -1;
	db_bind_double(st, 4, now);
	if ((rc = store_exec_stmt(s, st, "delivery")) != 0)
		return rc;
	return db_changes(s->conn) == 1 ? 0 : STORE_EXISTS;
}

int
store_delivery_known(struct store *s, const char *iid, const char *source,
    const char *key)
{
	static const char sql[] = "SELECT 1 FROM delivery WHERE"
	    " integration_id = ? AND source = ? AND key = ?";
	struct db_stmt	*st;
	int		 rc;

	if ((st = key_stmt(s, sql, iid, source, key)) == NULL)
		return -1;
	rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW)
		return 1;
	return rc == DB_DONE ? 0 : store_fail(s, "delivery known");
}

int
store_delivery_prune(struct store *s, double before, int limit)
{
	/*
	 * The oldest first, through the delivery_age index; the outer
	 * DELETE finds each row by its primary key.
	 */
	static const char sql[] = "DELETE FROM delivery WHERE"
	    " (integration_id, source, key) IN (SELECT integration_id, source,"
	    " key FROM delivery WHERE received_at < ?1"
	    " ORDER BY received_at LIMIT ?2)";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_double(st, 1, before);
	db_bind_int64(st, 2, limit);
	if (store_exec_stmt(s, st, "delivery prune") != 0)
		return -1;
	return db_changes(s->conn);
}

int
store_delivery_last(struct store *s, const char *iid, const char *source,
    double *at)
{
	static const char sql[] = "SELECT max(received_at) FROM delivery"
	    " WHERE integration_id = ? AND source = ?";
	struct db_stmt	*st;
	int		 rc;

	*at = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_text(st, 2, source);
	if ((rc = db_step(st)) == DB_ROW && db_column_text(st, 0) != NULL)
		*at = db_column_double(st, 0);
	db_reset(st);
	return rc == DB_ROW ? (*at > 0) : store_fail(s, "delivery last");
}
