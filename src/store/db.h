/*
 * db: one SQL interface over the two engines, SQLite and PostgreSQL.
 *
 * The store writes each query once, with ? or ?N placeholders as SQLite
 * numbers them (? takes one more than the largest number so far); the
 * PostgreSQL driver rewrites them to $N.  Values travel as text, int64 or
 * double and come back the same way; a NULL reads as a NULL text, or 0.
 *
 * Errors are sorted by what the caller does next (db_error): a constraint
 * refused the row, a lock was not free in time (try later), or the whole
 * transaction must run again (PostgreSQL's serialization failure and
 * deadlock, and a lost connection: the driver reconnects at the next
 * statement outside a transaction).  Functions log nothing: the store
 * logs, with db_errmsg.
 */
#ifndef PBSYNC_STORE_DB_H
#define PBSYNC_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

/*
 * How long a statement waits for a lock another connection holds.
 * Productboard gives up on a webhook or a click after 5 s: wait less, so
 * that while the database is locked the sender still gets its 503 (a
 * click its "busy" answer) in time.
 */
#define DB_WAIT_MS	2000

enum db_engine {
	DB_SQLITE,
	DB_POSTGRESQL
};

/* What the last failed call of a connection was. */
enum db_err {
	DB_OK,
	DB_FAILED,		/* anything else: logged, not retried */
	DB_CONSTRAINT,		/* unique, check, foreign key or not null */
	DB_BUSY,		/* a lock not free within the wait */
	DB_RETRY		/* run the whole transaction again */
};

#define DB_ROW	1
#define DB_DONE	0

struct db;
struct db_stmt;

/*
 * The engine a database setting names: a postgresql:// or postgres:// URI
 * or a libpq service=NAME is PostgreSQL, anything else a SQLite path.
 */
enum db_engine	 db_engine_of(const char *where);
/*
 * Opens where: 0, or -1 with *out NULL (out of memory) or a connection
 * whose db_errmsg says why, to be closed.
 */
int		 db_open(struct db **out, const char *where);
void		 db_close(struct db *);
enum db_engine	 db_engine(const struct db *);
/* Copies where into out with a password replaced by "***". */
void		 db_redact(const char *where, char *out, size_t len);
/* 1 if both engines' libraries may be used from several threads. */
int		 db_threadsafe(void);
/* The SQLite handle (sqlite3 *) of a SQLite connection, else NULL. */
void		*db_sqlite(struct db *);

/* Runs one or more statements without parameters: 0 or -1. */
int		 db_exec(struct db *, const char *sql);
/*
 * A write transaction whose lock waits last at most wait_ms (0: the
 * default DB_WAIT_MS): SQLite takes its write lock (BEGIN IMMEDIATE),
 * PostgreSQL begins and takes row locks as statements reach them.
 */
int		 db_begin(struct db *, long wait_ms);
int		 db_commit(struct db *);
/* Ends a transaction if one is open; a lost one is already over. */
void		 db_rollback(struct db *);
int		 db_in_tx(struct db *);

/* Statements: text kept by the caller until finalized. */
struct db_stmt	*db_prepare(struct db *, const char *sql);
void		 db_finalize(struct db_stmt *);
int		 db_param_count(struct db_stmt *);
/* Binds idx (from 1); text is copied, NULL binds NULL: 0 or -1. */
int		 db_bind_text(struct db_stmt *, int idx, const char *);
int		 db_bind_int64(struct db_stmt *, int idx, int64_t);
int		 db_bind_double(struct db_stmt *, int idx, double);
int		 db_bind_null(struct db_stmt *, int idx);
/* Runs the statement or moves to its next row: DB_ROW, DB_DONE or -1. */
int		 db_step(struct db_stmt *);
/* Ready to run again; the bindings stay unless cleared. */
void		 db_reset(struct db_stmt *);
void		 db_clear(struct db_stmt *);
/* Columns of the current row, from 0; text lives until the next step. */
const char	*db_column_text(struct db_stmt *, int col);
int64_t		 db_column_int64(struct db_stmt *, int col);
double		 db_column_double(struct db_stmt *, int col);

/*
 * Wake-ups: word that a job is due, so that a worker waiting for one
 * looks at once instead of at its next poll.  A hint, never the truth: a
 * lost one costs the worker one poll interval.  At most one goes out per
 * kind of job and commit (a rolled back transaction sends none).  SQLite
 * sends a datagram after the commit to the Unix socket <database>.wake-KIND
 * where a worker runs that kind alone, else to <database>.wake; PostgreSQL
 * a NOTIFY in the transaction, which the server delivers at commit to
 * every listening worker, on any host.
 */
#define DB_WAKE_KINDS	8	/* kinds one transaction wakes; more: polled */
#define DB_WAKE_KIND_MAX	32
/* The transaction in hand (or the statement just run) queued a due job. */
void		 db_wake_note(struct db *, const char *kind);
/*
 * Waits up to timeout_ms for a wake-up of a job of kind (only), of any
 * other kind (!only) or of any kind (kind NULL), listening from the first
 * call on (PostgreSQL on a connection of its own): 1 woken, 0 not, -1
 * when it cannot listen (db_errmsg says why; it waited all the same).
 */
int		 db_wake_wait(struct db *, const char *kind, int only,
		    int timeout_ms);

/* Rows the last INSERT, UPDATE or DELETE changed. */
int64_t		 db_changes(struct db *);
enum db_err	 db_error(struct db *);
const char	*db_errmsg(struct db *);

#endif
