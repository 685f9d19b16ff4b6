/*
 * db: the engine a database setting names, and the calls into its driver.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/db_int.h"

enum db_engine
db_engine_of(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 ||
	    strncmp(where, "postgres://", 11) == 0 ||
	    strncmp(where, "service=", 8) == 0 ? DB_POSTGRESQL : DB_SQLITE;
}

int
db_open(struct db **out, const char *where)
{
	*out = db_engine_of(where) == DB_POSTGRESQL ? db_pg_open(where) :
	    db_sqlite_open(where);
	return *out != NULL && (*out)->err == DB_OK ? 0 : -1;
}

void
db_close(struct db *db)
{
	if (db != NULL)
		db->ops->close(db);
}

enum db_engine
db_engine(const struct db *db)
{
	return db->engine;
}

/*
 * A URI's password (scheme://user:PASSWORD@host) and any password=VALUE
 * (a URI's query, a conninfo string) are masked: the setting is printed
 * and logged.
 */
void
db_redact(const char *where, char *out, size_t len)
{
	const char	*p = where, *at, *colon, *end;
	size_t		 n = 0;

#define PUT(s, k) do {							\
	size_t k_ = (k) < len - 1 - n ? (k) : len - 1 - n;		\
	memcpy(out + n, (s), k_);					\
	n += k_;							\
} while (0)
	if (len == 0)
		return;
	if ((p = strstr(where, "://")) != NULL) {
		p += 3;
		end = p + strcspn(p, "/?");
		at = memchr(p, '@', (size_t)(end - p));
		colon = at != NULL ? memchr(p, ':', (size_t)(at - p)) : NULL;
		if (colon != NULL) {
			PUT(where, (size_t)(colon + 1 - where));
			PUT("***", 3);
			where = at;
		}
	}
	for (p = where; *p != '\0'; ) {
		if (strncasecmp(p, "password=", 9) == 0 && (p == where ||
		    strchr("?& \t", p[-1]) != NULL)) {
			PUT(p, 9);
			PUT("***", 3);
			p += 9;
			p += strcspn(p, "& \t");
			continue;
		}
		PUT(p, 1);
		p++;
	}
#undef PUT
	out[n] = '\0';
}

int
db_threadsafe(void)
{
	return db_sqlite_threadsafe() && db_pg_threadsafe();
}

void *
db_sqlite(struct db *db)
{
	return db->engine == DB_SQLITE ? db->handle : NULL;
}

int
db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

int
db_begin(struct db *db, long wait_ms)
{
	return db->ops->begin(db, wait_ms);
}

int
db_commit(struct db *db)
{
	int	 i, rc = db->ops->commit(db);

	for (i = 0; rc == 0 && db->ops->wake_send != NULL && i < db->nwake;
	    i++)
		db->ops->wake_send(db, db->wake[i]);
	db->nwake = 0;
	return rc;
}

void
db_rollback(struct db *db)
{
	db->ops->rollback(db);
	db->nwake = 0;		/* what it queued is gone */
}

void
db_wake_note(struct db *db, const char *kind)
{
	int	 i, tx = db->ops->in_tx(db);

	for (i = 0; tx && i < db->nwake; i++)
		if (strcmp(db->wake[i], kind) == 0)
			return;
	if (tx) {
		/* Past the table's room the worker's poll finds the job. */
		if (db->nwake == DB_WAKE_KINDS ||
		    strlen(kind) >= DB_WAKE_KIND_MAX)
			return;
		memcpy(db->wake[db->nwake++], kind, strlen(kind) + 1);
	}
	if (db->ops->wake_note != NULL)
		db->ops->wake_note(db, kind);
	if (!tx && db->ops->wake_send != NULL)
		db->ops->wake_send(db, kind);
}

int
db_wake_wait(struct db *db, const char *kind, int only, int timeout_ms)
{
	return db->ops->wake_wait(db, kind, only, timeout_ms);
}

int
db_in_tx(struct db *db)
{
	return db->ops->in_tx(db);
}

struct db_stmt *
db_prepare(struct db *db, const char *sql)
{
	return db->ops->prepare(db, sql);
}

void
db_finalize(struct db_stmt *st)
{
	if (st != NULL)
		st->db->ops->finalize(st);
}

int
db_param_count(struct db_stmt *st)
{
	return st->db->ops->param_count(st);
}

int
db_bind_text(struct db_stmt *st, int idx, const char *v)
{
	return st->db->ops->bind_text(st, idx, v);
}

int
db_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	return st->db->ops->bind_int64(st, idx, v);
}

int
db_bind_double(struct db_stmt *st, int idx, double v)
{
	return st->db->ops->bind_double(st, idx, v);
}

int
db_bind_null(struct db_stmt *st, int idx)
{
	return st->db->ops->bind_text(st, idx, NULL);
}

int
db_step(struct db_stmt *st)
{
	return st->db->ops->step(st);
}

void
db_reset(struct db_stmt *st)
{
	st->db->ops->reset(st);
}

void
db_clear(struct db_stmt *st)
{
	st->db->ops->clear(st);
}

const char *
db_column_text(struct db_stmt *st, int col)
{
	return st->db->ops->column_text(st, col);
}

int64_t
db_column_int64(struct db_stmt *st, int col)
{
	return st->db->ops->column_int64(st, col);
}

double
db_column_double(struct db_stmt *st, int col)
{
	return st->db->ops->column_double(st, col);
}

int64_t
db_changes(struct db *db)
{
	return db->ops->changes(db);
}

enum db_err
db_error(struct db *db)
{
	return db->err;
}

const char *
db_errmsg(struct db *db)
{
	return db->errmsg;
}
