#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/log.h"
#include "base/util.h"
#include "store/store.h"
#include "store/store_int.h"

/*
 * How long a statement waits for another writer.  Productboard gives up on
 * a webhook or a click after 5 s: wait less, so that while the database is
 * locked the sender still gets its 503 (a click its "busy" answer) in time.
 */
#define BUSY_TIMEOUT_MS	2000
#define VERSION_MARK	"\n-- version "

extern const char store_schema_sql[];

/* Logs the last error of the connection, remembering whether it was BUSY. */
int
store_fail(struct store *s, const char *what)
{
	int	 code = sqlite3_extended_errcode(s->db);

	s->busy = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
	log_err("store: %s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

sqlite3_stmt *
store_stmt(struct store *s, const char *sql)
{
	size_t		 i;
	sqlite3_stmt	*st;

	for (i = 0; i < sizeof(s->cache) / sizeof(s->cache[0]); i++) {
		if (s->cache[i].sql == sql) {
			sqlite3_reset(s->cache[i].stmt);
			sqlite3_clear_bindings(s->cache[i].stmt);
			return s->cache[i].stmt;
		}
		if (s->cache[i].sql == NULL)
			break;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK) {
		store_fail(s, "prepare");
		return NULL;
	}
	if (i < sizeof(s->cache) / sizeof(s->cache[0])) {
		s->cache[i].sql = sql;
		s->cache[i].stmt = st;
	} else
		log_warn("store: statement cache full");
	return st;
}

/* Steps a statement that returns no rows: 0 or -1. */
int
store_exec_stmt(struct store *s, sqlite3_stmt *st, const char *what)
{
	int	 rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT) {
			s->busy = 0;
			log_warn("store: %s: constraint: %s", what,
			    sqlite3_errmsg(s->db));
			return STORE_EXISTS;
		}
		return store_fail(s, what);
	}
	return 0;
}

int
store_text(sqlite3_stmt *st, int col, char **out)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	if (t == NULL) {
		*out = NULL;
		return 0;
	}
	return (*out = strdup((const char *)t)) == NULL ? -1 : 0;
}

void
store_text_fixed(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", t != NULL ? (const char *)t : "");
}

int
store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
	return v == NULL ? sqlite3_bind_null(st, idx) :
	    sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
}

static int
exec(struct store *s, const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		int code = sqlite3_extended_errcode(s->db);

		s->busy = (code & 0xff) == SQLITE_BUSY;
		log_err("store: %s", err != NULL ? err : "exec failed");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int
store_latest_version(void)
{
	const char	*p = store_schema_sql;
	long		 v, max = 0;

	while ((p = strstr(p, VERSION_MARK)) != NULL) {
		p += sizeof(VERSION_MARK) - 1;
		v = strtol(p, NULL, 10);
		if (v > max)
			max = v;
	}
	return (int)max;
}

int
store_threadsafe(void)
{
	return sqlite3_threadsafe() != 0;
}

int
store_schema_version(struct store *s)
{
	sqlite3_stmt	*st;
	int		 v = -1;

	if ((st = store_stmt(s, "PRAGMA user_version")) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return v;
}

/* Applies the schema.sql section for version v, inside a transaction. */
static int
migrate_one(struct store *s, long v, const char *start, size_t len)
{
	char	*sql;
	int	 rc;

	if ((sql = malloc(len + 64)) == NULL)
		return -1;
	memcpy(sql, start, len);
	snprintf(sql + len, 64, ";\nPRAGMA user_version = %ld;", v);
	rc = exec(s, sql);
	free(sql);
	if (rc == 0)
		log_info("store: migrated to schema version %ld", v);
	return rc;
}

/*
 * Migrations run with foreign keys off, so a table can be rebuilt (drop,
 * rename) without its references cascading: this checks them after.
 */
static int
foreign_keys_broken(struct store *s)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "foreign_key_check") != 0;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		log_err("store: a migration left rows whose references are "
		    "broken");
	return rc != SQLITE_DONE;
}

static int
migrate(struct store *s)
{
	const char	*p = store_schema_sql, *next, *body;
	long		 v;
	int		 cur;

	if (exec(s, "BEGIN IMMEDIATE") == -1)
		return -1;
	if ((cur = store_schema_version(s)) < 0)
		goto fail;
	if (cur > store_latest_version()) {
		log_err("store: database schema %d is newer than this pbsync "
		    "(%d)", cur, store_latest_version());
		goto fail;
	}
	while ((p = strstr(p, VERSION_MARK)) != NULL) {
		p += sizeof(VERSION_MARK) - 1;
		v = strtol(p, NULL, 10);
		body = strchr(p, '\n');
		if (body == NULL)
			break;
		next = strstr(body, VERSION_MARK);
		if (v > cur && migrate_one(s, v, body, next != NULL ?
		    (size_t)(next - body) : strlen(body)) == -1)
			goto fail;
		p = body;
	}
	if (foreign_keys_broken(s))
		goto fail;
	return exec(s, "COMMIT");
fail:
	exec(s, "ROLLBACK");
	return -1;
}

/*
 * Waits for a lock another connection holds, up to BUSY_TIMEOUT_MS.
 * SQLite's own handler sleeps 1, 2, 5, 10 ... 100 ms between tries, but a
 * delivery holds the write lock for its inserts and one fsync, well under
 * a millisecond: waiters overslept, and under load queued behind each
 * other for seconds.  Polling every 50 us, then every ms after the first
 * 5 ms, hands the lock over about as soon as it is free.
 */
static int
on_busy(void *arg, int tries)
{
	struct store	*s = arg;
	struct timespec	 ts;
	int64_t		 now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (tries == 0)
		s->wait_from = now;
	if (now - s->wait_from >= (int64_t)(s->wait_max_ms > 0 ?
	    s->wait_max_ms : BUSY_TIMEOUT_MS) * 1000)
		return 0;
	usleep(now - s->wait_from < 5000 ? 50u : 1000u);
	return 1;
}

int
store_open(struct store *s, const char *path)
{
	int	 fd;

	memset(s, 0, sizeof(*s));
	/*
	 * Created owner-only before SQLite opens it: SQLite gives the -wal
	 * and -shm files the database's mode, and the database holds sealed
	 * tokens, hashed secrets and every link.  Only when it does not
	 * exist (O_EXCL): closing a descriptor of a file drops every POSIX
	 * lock the process holds on it, so closing one while another
	 * connection of this process (the metrics' thread) has it open would
	 * let another process take it for unused and delete its WAL.
	 */
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0 &&
	    (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) != -1)
		close(fd);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_err("store: cannot open \"%s\": %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return -1;
	}
	sqlite3_busy_handler(s->db, on_busy, s);
	sqlite3_extended_result_codes(s->db, 1);
	/* Migrations first: foreign keys are off until a connection asks. */
	if (exec(s, "PRAGMA journal_mode = WAL") == -1 ||
	    exec(s, "PRAGMA synchronous = FULL") == -1 ||
	    migrate(s) == -1 ||
	    exec(s, "PRAGMA foreign_keys = ON") == -1) {
		store_close(s);
		return -1;
	}
	return 0;
}

void
store_close(struct store *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(s->cache) / sizeof(s->cache[0]); i++)
		if (s->cache[i].stmt != NULL)
			sqlite3_finalize(s->cache[i].stmt);
	if (s->db != NULL)
		sqlite3_close(s->db);
	memset(s, 0, sizeof(*s));
}

int
store_begin(struct store *s)
{
	return exec(s, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *s)
{
	if (exec(s, "COMMIT") == -1) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_health(struct store *s, struct store_health *h)
{
	static const char sql[] =
	    "SELECT (SELECT count(*) FROM job WHERE state = 'ready'),"
	    " (SELECT count(*) FROM job WHERE state = 'leased'),"
	    " (SELECT count(*) FROM job WHERE state = 'dead'),"
	    " (SELECT count(*) FROM integration),"
	    " (SELECT n FROM row_count WHERE name = 'link')";
	sqlite3_stmt	*st;
	int		 rc;

	memset(h, 0, sizeof(*h));
	if ((h->schema_version = store_schema_version(s)) < 0 ||
	    (st = store_stmt(s, sql)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return store_fail(s, "health");
	}
	h->jobs_ready = sqlite3_column_int64(st, 0);
	h->jobs_leased = sqlite3_column_int64(st, 1);
	h->jobs_dead = sqlite3_column_int64(st, 2);
	h->integrations = sqlite3_column_int64(st, 3);
	h->links = sqlite3_column_int64(st, 4);
	sqlite3_reset(st);
	return 0;
}

int
store_log(struct store *s, const struct store_log *l)
{
	static const char sql[] =
	    "INSERT INTO sync_log (integration_id, at, actor, action,"
	    " feature_id, issue_ref, result, detail)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, l->integration_id);
	sqlite3_bind_double(st, 2, util_now());
	store_bind_text(st, 3, l->actor != NULL ? l->actor : "");
	store_bind_text(st, 4, l->action);
	store_bind_text(st, 5, l->feature_id != NULL ? l->feature_id : "");
	store_bind_text(st, 6, l->issue_ref != NULL ? l->issue_ref : "");
	store_bind_text(st, 7, l->result);
	store_bind_text(st, 8, l->detail != NULL ? l->detail : "");
	return store_exec_stmt(s, st, "sync log");
}

int
store_pause_get(struct store *s, const char *token_hash, double *until)
{
	static const char sql[] =
	    "SELECT until FROM upstream_pause WHERE token_hash = ?";
	sqlite3_stmt	*st;
	int		 rc;

	*until = 0;
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, token_hash);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*until = sqlite3_column_double(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	    store_fail(s, "pause get");
}

int
store_pause_set(struct store *s, const char *token_hash, double until)
{
	static const char sql[] =
	    "INSERT INTO upstream_pause (token_hash, until) VALUES (?, ?)"
	    " ON CONFLICT (token_hash) DO UPDATE SET"
	    " until = max(until, excluded.until)";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, token_hash);
	sqlite3_bind_double(st, 2, until);
	return store_exec_stmt(s, st, "pause set");
}
