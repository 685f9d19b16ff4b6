/*
 * db_pg: the PostgreSQL driver, over libpq.
 *
 * Statements are prepared by name the first time they run on a
 * connection, with the store's ? placeholders rewritten to $N, and run
 * with text values; the whole result comes back at once (the store's
 * queries are keyed or limited).  Transactions run at READ COMMITTED: the
 * store's writes are single statements whose outcome the unique
 * constraints decide (ON CONFLICT), its leases take rows with FOR UPDATE
 * SKIP LOCKED, and where a transaction reads before it writes it locks
 * what it reads.
 *
 * A connection found closed when no transaction is open (the server
 * restarted, an administrator ended it) is opened again before the next
 * statement; one lost in a transaction fails every statement with
 * DB_RETRY until the transaction is rolled back, so that no later
 * statement of it runs on its own.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "base/util.h"
#include "store/db_int.h"

struct pg {
	struct db	 db;
	PGconn		*c;
	unsigned	 gen;		/* connections made so far */
	unsigned	 names;		/* statement names handed out */
	int		 tx;		/* a transaction is open (or lost) */
	int64_t		 changes;
	char		*conninfo;
	PGconn		*listen;	/* the worker's LISTEN; NULL: not yet */
};

struct pg_stmt {
	struct db_stmt	 base;
	char		*sql;		/* with $N placeholders */
	int		 nparams;
	Oid		*types;		/* what the server cannot tell */
	char		**values;
	char		 name[16];
	unsigned	 gen;		/* prepared on that connection; 0: not */
	PGresult	*res;
	int		 row, rows;
};

#define WAKE_CHANNEL	"pbsync_wake"	/* its payload: the job's kind */
#define MAX_PARAMS	32766	/* the protocol counts them in 16 bits */
#define TEXT_OID	25	/* the type text, as pg_type numbers it */

#define PG(d)		((struct pg *)(void *)(d))
#define PGST(s)		((struct pg_stmt *)(void *)(s))

/* Records the failure of r (NULL: of the connection): -1. */
static int
fail(struct pg *p, const PGresult *r)
{
	const char	*state = NULL, *msg = NULL;
	enum db_err	 e = DB_FAILED;
	char		 buf[256];

	if (r != NULL) {
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	}
	if (msg == NULL)
		msg = PQerrorMessage(p->c);
	snprintf(buf, sizeof(buf), "%s", msg);
	buf[strcspn(buf, "\n")] = '\0';
	if (PQstatus(p->c) != CONNECTION_OK)
		e = DB_RETRY;
	else if (state == NULL)
		e = DB_FAILED;
	else if (strncmp(state, "23", 2) == 0)
		e = DB_CONSTRAINT;
	else if (strcmp(state, "55P03") == 0)	/* lock_not_available */
		e = DB_BUSY;
	else if (strcmp(state, "40001") == 0 ||	/* serialization_failure */
	    strcmp(state, "40P01") == 0 ||	/* deadlock_detected */
	    strncmp(state, "08", 2) == 0 ||	/* connection exceptions */
	    strncmp(state, "57P0", 4) == 0)	/* shutdown, ended */
		e = DB_RETRY;
	return db_fail(&p->db, e, buf);
}

static void
quiet(void *arg, const char *msg)
{
}

/*
 * The settings of each new session: lock waits as long as SQLite's, and
 * a commit that is on disk before it returns, whatever the server's
 * default (an acknowledged delivery must survive a crash).
 */
static int
session(struct pg *p)
{
	PGresult	*r;
	char		 sql[192];
	int		 rc = 0;

	snprintf(sql, sizeof(sql), "SET lock_timeout = %d;"
	    "SELECT set_config('synchronous_commit', 'on', false)"
	    " WHERE current_setting('synchronous_commit') = 'off'",
	    DB_WAIT_MS);
	PQsetNoticeProcessor(p->c, quiet, NULL);
	r = PQexec(p->c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = fail(p, r);
	PQclear(r);
	p->gen++;
	return rc;
}

/* Input waiting on an idle connection: the server is ending it. */
static int
ended(struct pg *p)
{
	struct pollfd	 pfd;

	pfd.fd = PQsocket(p->c);
	pfd.events = POLLIN;
	return pfd.fd < 0 || poll(&pfd, 1, 0) != 0;
}

/* The connection is usable for the next statement: 0 or -1. */
static int
ready(struct pg *p)
{
	if (PQstatus(p->c) == CONNECTION_OK && (p->tx || !ended(p)))
		return 0;
	if (p->tx)
		return db_fail(&p->db, DB_RETRY, "the connection was lost in "
		    "a transaction");
	PQreset(p->c);
	if (PQstatus(p->c) != CONNECTION_OK)
		return fail(p, NULL);
	return session(p);
}

/* Runs sql, which returns no rows or rows nobody reads: 0 or -1. */
static int
run(struct pg *p, const char *sql, const char *want)
{
	PGresult	*r = PQexec(p->c, sql);
	int		 rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = fail(p, r);
	else if (want != NULL && strcmp(PQcmdStatus(r), want) != 0)
		/* COMMIT of a transaction an error had ended */
		rc = db_fail(&p->db, DB_FAILED, "the transaction was rolled "
		    "back after an error");
	PQclear(r);
	return rc;
}

static int
pg_exec(struct db *db, const char *sql)
{
	struct pg	*p = PG(db);

	return ready(p) == -1 ? -1 : run(p, sql, NULL);
}

static int
pg_begin(struct db *db, long wait_ms)
{
	struct pg	*p = PG(db);
	char		 sql[64];

	if (ready(p) == -1)
		return -1;
	if (wait_ms > 0)
		snprintf(sql, sizeof(sql), "BEGIN; SET LOCAL lock_timeout = "
		    "'%ldms'", wait_ms);
	if (run(p, wait_ms > 0 ? sql : "BEGIN", NULL) == -1)
		return -1;
	p->tx = 1;
	return 0;
}

static int
pg_commit(struct db *db)
{
	struct pg	*p = PG(db);
	int		 rc;

	if (ready(p) == -1)
		rc = -1;
	else
		rc = run(p, "COMMIT", "COMMIT");
	/* Lost while committing: it may or may not have happened. */
	p->tx = 0;
	return rc;
}

static void
pg_rollback(struct db *db)
{
	struct pg	*p = PG(db);

	if (p->tx && PQstatus(p->c) == CONNECTION_OK)
		PQclear(PQexec(p->c, "ROLLBACK"));
	p->tx = 0;
}

static int
pg_in_tx(struct db *db)
{
	return PG(db)->tx;
}

static int64_t
pg_changes(struct db *db)
{
	return PG(db)->changes;
}

/*
 * The statement with SQLite's placeholders as PostgreSQL's: ?N is $N and
 * ? one more than the largest number before it.  Quoted text and
 * comments are copied as they are.  used[N] is set for each N the text
 * names.  NULL when out of memory or a number is out of range.
 */
static char *
placeholders(const char *sql, int *nparams, char *used)
{
	char		*out, *o, *end;
	const char	*p = sql;
	char		 quote = 0;
	long		 n;
	int		 max = 0;

	if ((out = o = malloc(strlen(sql) * 6 + 1)) == NULL)
		return NULL;
	while (*p != '\0') {
		if (quote != 0 || *p == '\'' || *p == '"') {
			if (quote == 0)
				quote = *p;
			else if (*p == quote)
				quote = 0;
			*o++ = *p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p != '\0' && *p != '\n')
				*o++ = *p++;
		} else if (*p == '?') {
			p++;
			n = max + 1;
			errno = 0;
			if (isdigit((unsigned char)*p)) {
				n = strtol(p, &end, 10);
				p = end;
			}
			if (n < 1 || n > MAX_PARAMS || errno != 0) {
				free(out);
				return NULL;
			}
			if (n > max)
				max = (int)n;
			used[n] = 1;
			o += sprintf(o, "$%ld", n);
		} else
			*o++ = *p++;
	}
	*o = '\0';
	*nparams = max;
	return out;
}

/*
 * A statement of the store may bind a number its text does not name (one
 * text of several that share their bindings): PostgreSQL, which types a
 * parameter by where it is used, is told that one is text.
 */
static int
unused_as_text(struct pg_stmt *s, const char *used)
{
	int	 i;

	if (s->nparams == 0)
		return 0;
	if ((s->values = calloc((size_t)s->nparams, sizeof(*s->values))) ==
	    NULL || (s->types = calloc((size_t)s->nparams,
	    sizeof(*s->types))) == NULL)
		return -1;
	for (i = 0; i < s->nparams; i++)
		s->types[i] = used[i + 1] ? 0 : TEXT_OID;
	return 0;
}

static struct db_stmt *
pg_prepare(struct db *db, const char *sql)
{
	struct pg	*p = PG(db);
	struct pg_stmt	*s;
	char		*used;
	int		 rc = -1;

	if ((s = calloc(1, sizeof(*s))) != NULL &&
	    (used = calloc(MAX_PARAMS + 1, 1)) != NULL) {
		if ((s->sql = placeholders(sql, &s->nparams, used)) != NULL)
			rc = unused_as_text(s, used);
		free(used);
	}
	if (rc == -1) {
		if (s != NULL) {
			free(s->sql);
			free(s->values);
			free(s->types);
		}
		free(s);
		db_fail(db, DB_FAILED, "cannot prepare a statement: out of "
		    "memory or a placeholder out of range");
		return NULL;
	}
	s->base.db = db;
	snprintf(s->name, sizeof(s->name), "pbsync%u", ++p->names);
	return &s->base;
}

static void
pg_reset(struct db_stmt *st)
{
	struct pg_stmt	*s = PGST(st);

	PQclear(s->res);
	s->res = NULL;
	s->row = s->rows = 0;
}

static void
pg_clear(struct db_stmt *st)
{
	struct pg_stmt	*s = PGST(st);
	int		 i;

	for (i = 0; i < s->nparams; i++) {
		free(s->values[i]);
		s->values[i] = NULL;
	}
}

static void
pg_finalize(struct db_stmt *st)
{
	struct pg_stmt	*s = PGST(st);
	struct pg	*p = PG(st->db);
	char		 sql[32];

	if (s->gen == p->gen && !p->tx && PQstatus(p->c) == CONNECTION_OK) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
		PQclear(PQexec(p->c, sql));
	}
	pg_reset(st);
	pg_clear(st);
	free(s->values);
	free(s->types);
	free(s->sql);
	free(s);
}

static int
pg_param_count(struct db_stmt *st)
{
	return PGST(st)->nparams;
}

static int
pg_bind_text(struct db_stmt *st, int idx, const char *v)
{
	struct pg_stmt	*s = PGST(st);
	char		*copy = NULL;

	if (idx < 1 || idx > s->nparams)
		return db_fail(st->db, DB_FAILED, "column index out of range");
	if (v != NULL && (copy = strdup(v)) == NULL)
		return db_fail(st->db, DB_FAILED, "out of memory");
	free(s->values[idx - 1]);
	s->values[idx - 1] = copy;
	return 0;
}

static int
pg_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	char	 t[24];

	snprintf(t, sizeof(t), "%lld", (long long)v);
	return pg_bind_text(st, idx, t);
}

static int
pg_bind_double(struct db_stmt *st, int idx, double v)
{
	char	 t[32];

	if (isnan(v))
		snprintf(t, sizeof(t), "NaN");
	else if (isinf(v))
		snprintf(t, sizeof(t), "%sInfinity", v < 0 ? "-" : "");
	else
		snprintf(t, sizeof(t), "%.17g", v);
	return pg_bind_text(st, idx, t);
}

/* Prepares s on this connection if it is not yet: 0 or -1. */
static int
prepared(struct pg *p, struct pg_stmt *s)
{
	PGresult	*r;
	int		 rc = 0;

	if (s->gen == p->gen)
		return 0;
	r = PQprepare(p->c, s->name, s->sql, s->nparams, s->types);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = fail(p, r);
	else
		s->gen = p->gen;
	PQclear(r);
	return rc;
}

static int
pg_step(struct db_stmt *st)
{
	struct pg_stmt	*s = PGST(st);
	struct pg	*p = PG(st->db);
	PGresult	*r;
	const char	*cmd;

	if (s->res != NULL)
		return ++s->row < s->rows ? DB_ROW : DB_DONE;
	if (ready(p) == -1 || prepared(p, s) == -1)
		return -1;
	r = PQexecPrepared(p->c, s->name, s->nparams,
	    (const char *const *)s->values, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		fail(p, r);
		PQclear(r);
		return -1;
	}
	cmd = PQcmdStatus(r);
	if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
	    strncmp(cmd, "DELETE", 6) == 0)
		p->changes = strtoll(PQcmdTuples(r), NULL, 10);
	s->res = r;
	s->row = 0;
	s->rows = PQntuples(r);
	return s->rows > 0 ? DB_ROW : DB_DONE;
}

static const char *
pg_column_text(struct db_stmt *st, int col)
{
	struct pg_stmt	*s = PGST(st);

	if (s->res == NULL || s->row >= s->rows || col < 0 ||
	    col >= PQnfields(s->res) || PQgetisnull(s->res, s->row, col))
		return NULL;
	return PQgetvalue(s->res, s->row, col);
}

static int64_t
pg_column_int64(struct db_stmt *st, int col)
{
	const char	*t = pg_column_text(st, col);

	/* A boolean ("t", "f") reads as SQLite's 1 and 0. */
	if (t == NULL || *t == 'f')
		return 0;
	return *t == 't' ? 1 : strtoll(t, NULL, 10);
}

static double
pg_column_double(struct db_stmt *st, int col)
{
	const char	*t = pg_column_text(st, col);

	return t != NULL ? strtod(t, NULL) : 0;
}

static void
pg_close(struct db *db)
{
	struct pg	*p = PG(db);

	PQfinish(p->c);
	PQfinish(p->listen);
	free(p->conninfo);
	free(p);
}

/*
 * NOTIFY in the transaction: the server delivers it at its commit (none
 * when it rolls back, one when the same kind is queued twice) to every
 * worker that listens, on any host.  A failure here aborts the
 * transaction, so its commit fails: the caller retries, as after any.
 */
static void
pg_wake_note(struct db *db, const char *kind)
{
	struct pg	*p = PG(db);
	const char	*v[1] = { kind };

	if (PQstatus(p->c) == CONNECTION_OK)
		PQclear(PQexecParams(p->c, "SELECT pg_notify('" WAKE_CHANNEL
		    "', $1)", 1, NULL, v, NULL, NULL, 0));
}

static PGconn *
connect_to(const char *conninfo)
{
	/* Defaults first: what conninfo says overrides them. */
	const char	*keys[] = { "connect_timeout",
			    "fallback_application_name", "dbname", NULL };
	const char	*vals[] = { "10", "pbsync", conninfo, NULL };

	return PQconnectdbParams(keys, vals, 1);
}

/* The worker's connection of its own, listening: 0 or -1. */
static int
wake_listen(struct pg *p)
{
	PGresult	*r;
	int		 rc = -1;

	if ((p->listen = connect_to(p->conninfo)) == NULL)
		return db_fail(&p->db, DB_FAILED, "out of memory");
	if (PQstatus(p->listen) == CONNECTION_OK) {
		PQsetNoticeProcessor(p->listen, quiet, NULL);
		r = PQexec(p->listen, "LISTEN " WAKE_CHANNEL);
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			rc = 0;
		PQclear(r);
	}
	if (rc == -1) {
		db_fail(&p->db, DB_FAILED, PQerrorMessage(p->listen));
		p->db.errmsg[strcspn(p->db.errmsg, "\n")] = '\0';
		PQfinish(p->listen);
		p->listen = NULL;
	}
	return rc;
}

/*
 * Every worker hears every kind: each takes the notifications of its own
 * lane and waits on through the others'.  A lost listening connection
 * wakes the worker (what was missed meanwhile is in the table) and is
 * opened again at the next wait.
 */
static int
pg_wake_wait(struct db *db, const char *kind, int only, int timeout_ms)
{
	struct pg	*p = PG(db);
	int64_t		 end = util_mono_ms() + timeout_ms, left;
	struct pollfd	 pfd;
	PGnotify	*n;
	int		 woken = 0, rc = 0;

	if (p->listen == NULL && wake_listen(p) == -1)
		rc = -1;
	for (;;) {
		while (p->listen != NULL &&
		    (n = PQnotifies(p->listen)) != NULL) {
			if (kind == NULL || (strcmp(n->extra, kind) == 0) ==
			    only)
				woken = 1;
			PQfreemem(n);
		}
		if (woken)
			return 1;
		if ((left = end - util_mono_ms()) <= 0)
			return rc;
		pfd.fd = p->listen != NULL ? PQsocket(p->listen) : -1;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) <= 0)
			return rc;	/* the time is up, or a signal */
		if (PQconsumeInput(p->listen) == 0) {
			PQfinish(p->listen);
			p->listen = NULL;
			return 1;
		}
	}
}

static const struct db_ops pg_ops = {
	pg_close, pg_exec, pg_begin, pg_commit, pg_rollback, pg_in_tx,
	pg_changes, pg_prepare, pg_finalize, pg_param_count, pg_bind_text,
	pg_bind_int64, pg_bind_double, pg_step, pg_reset, pg_clear,
	pg_column_text, pg_column_int64, pg_column_double, pg_wake_note, NULL,
	pg_wake_wait
};

struct db *
db_pg_open(const char *conninfo)
{
	struct pg	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->db.ops = &pg_ops;
	p->db.engine = DB_POSTGRESQL;
	if ((p->conninfo = strdup(conninfo)) == NULL ||
	    (p->c = connect_to(conninfo)) == NULL) {
		free(p->conninfo);
		free(p);
		return NULL;
	}
	p->db.handle = p->c;
	if (PQstatus(p->c) != CONNECTION_OK)
		fail(p, NULL);
	else
		session(p);
	return &p->db;
}

int
db_pg_threadsafe(void)
{
	return PQisthreadsafe();
}
