/*
 * db_sqlite: the SQLite driver.  One file in WAL mode with
 * synchronous=FULL (an acknowledged delivery must survive a power cut),
 * writers taking the lock with BEGIN IMMEDIATE, and PostgreSQL's
 * greatest() and least(), so that the store's queries read the same on
 * both engines.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/db_int.h"

struct lite {
	struct db	 db;
	sqlite3		*h;
	int64_t		 wait_from;	/* waiting for a lock since (us) */
	long		 wait_max_ms;	/* 0: DB_WAIT_MS */
	char		*path;		/* of the file; NULL: in memory */
	int		 wake_out;	/* the socket wake-ups leave by */
	int		 wake_in;	/* the worker's, bound; -1: not yet */
};

struct lite_stmt {
	struct db_stmt	 base;
	sqlite3_stmt	*st;
};

#define LITE(d)		((struct lite *)(void *)(d))
#define STMT(s)		(((struct lite_stmt *)(void *)(s))->st)

static int
fail(struct lite *l)
{
	int	 code = sqlite3_extended_errcode(l->h) & 0xff;

	return db_fail(&l->db, code == SQLITE_BUSY || code == SQLITE_LOCKED ?
	    DB_BUSY : code == SQLITE_CONSTRAINT ? DB_CONSTRAINT : DB_FAILED,
	    sqlite3_errmsg(l->h));
}

static int
lite_exec(struct db *db, const char *sql)
{
	struct lite	*l = LITE(db);
	char		*err = NULL;

	if (sqlite3_exec(l->h, sql, NULL, NULL, &err) != SQLITE_OK) {
		fail(l);
		if (err != NULL)
			db_fail(db, db->err, err);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int
lite_begin(struct db *db, long wait_ms)
{
	struct lite	*l = LITE(db);
	int		 rc;

	/* Only the write lock is waited for: readers never block in WAL. */
	l->wait_max_ms = wait_ms;
	rc = lite_exec(db, "BEGIN IMMEDIATE");
	l->wait_max_ms = 0;
	return rc;
}

static int
lite_commit(struct db *db)
{
	return lite_exec(db, "COMMIT");
}

static int
lite_in_tx(struct db *db)
{
	return !sqlite3_get_autocommit(LITE(db)->h);
}

static void
lite_rollback(struct db *db)
{
	if (lite_in_tx(db))
		sqlite3_exec(LITE(db)->h, "ROLLBACK", NULL, NULL, NULL);
}

static int64_t
lite_changes(struct db *db)
{
	return sqlite3_changes(LITE(db)->h);
}

static struct db_stmt *
lite_prepare(struct db *db, const char *sql)
{
	struct lite	*l = LITE(db);
	struct lite_stmt *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		db_fail(db, DB_FAILED, "out of memory");
		return NULL;
	}
	s->base.db = db;
	if (sqlite3_prepare_v3(l->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s->st, NULL) != SQLITE_OK) {
		fail(l);
		free(s);
		return NULL;
	}
	return &s->base;
}

static void
lite_finalize(struct db_stmt *st)
{
	sqlite3_finalize(STMT(st));
	free(st);
}

static int
lite_param_count(struct db_stmt *st)
{
	return sqlite3_bind_parameter_count(STMT(st));
}

static int
bound(struct db_stmt *st, int rc)
{
	return rc == SQLITE_OK ? 0 : fail(LITE(st->db));
}

static int
lite_bind_text(struct db_stmt *st, int idx, const char *v)
{
	return bound(st, v == NULL ? sqlite3_bind_null(STMT(st), idx) :
	    sqlite3_bind_text(STMT(st), idx, v, -1, SQLITE_TRANSIENT));
}

static int
lite_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	return bound(st, sqlite3_bind_int64(STMT(st), idx, v));
}

static int
lite_bind_double(struct db_stmt *st, int idx, double v)
{
	return bound(st, sqlite3_bind_double(STMT(st), idx, v));
}

static int
lite_step(struct db_stmt *st)
{
	int	 rc = sqlite3_step(STMT(st));

	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return fail(LITE(st->db));
}

static void
lite_reset(struct db_stmt *st)
{
	sqlite3_reset(STMT(st));
}

static void
lite_clear(struct db_stmt *st)
{
	sqlite3_clear_bindings(STMT(st));
}

static const char *
lite_column_text(struct db_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(STMT(st), col);
}

static int64_t
lite_column_int64(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(STMT(st), col);
}

static double
lite_column_double(struct db_stmt *st, int col)
{
	return sqlite3_column_double(STMT(st), col);
}

static void
lite_close(struct db *db)
{
	struct lite	*l = LITE(db);

	sqlite3_close(l->h);
	if (l->wake_out != -1)
		close(l->wake_out);
	if (l->wake_in != -1)
		close(l->wake_in);
	free(l->path);
	free(l);
}

/* The address of the worker of kind alone (NULL: of the rest): 0 or -1. */
static int
wake_addr(const struct lite *l, const char *kind, struct sockaddr_un *sun)
{
	int	 n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (l->path == NULL)
		return -1;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s.wake%s%s",
	    l->path, kind != NULL ? "-" : "", kind != NULL ? kind : "");
	return n < 0 || (size_t)n >= sizeof(sun->sun_path) ? -1 : 0;
}

static int
wake_sendto(struct lite *l, const char *kind)
{
	struct sockaddr_un sun;

	if (wake_addr(l, kind, &sun) == -1)
		return -1;
	return sendto(l->wake_out, "", 1, 0, (struct sockaddr *)&sun,
	    sizeof(sun)) == 1 ? 0 : -1;
}

/*
 * One datagram, to the worker that runs this kind alone, else to the one
 * that runs the rest.  Nobody listening (ENOENT, ECONNREFUSED: no worker
 * or a dead one's file) or a full queue (EAGAIN: the worker has a
 * wake-up to read already) is no error: the worker polls.
 */
static void
lite_wake_send(struct db *db, const char *kind)
{
	struct lite	*l = LITE(db);

	if (l->path == NULL || (l->wake_out == -1 && (l->wake_out =
	    socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) ==
	    -1))
		return;
	if (wake_sendto(l, kind) == -1 && (errno == ENOENT ||
	    errno == ECONNREFUSED))
		wake_sendto(l, NULL);
}

/*
 * Binds the worker's socket, with the database file's mode: whoever may
 * write the database may wake its worker.  A file left there is a dead
 * worker's (the supervisor restarts its lanes) and is replaced.
 */
static int
wake_listen(struct lite *l, const char *kind, int only)
{
	struct sockaddr_un sun;
	struct stat	 st;
	int		 fd;

	if (wake_addr(l, only ? kind : NULL, &sun) == -1)
		return db_fail(&l->db, DB_FAILED, "no wake-up socket: the "
		    "database is in memory or its path too long");
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return db_fail(&l->db, DB_FAILED, strerror(errno));
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		db_fail(&l->db, DB_FAILED, strerror(errno));
		close(fd);
		return -1;
	}
	if (stat(l->path, &st) == 0)
		chmod(sun.sun_path, st.st_mode & 0666);
	l->wake_in = fd;
	return 0;
}

static int
lite_wake_wait(struct db *db, const char *kind, int only, int timeout_ms)
{
	struct lite	*l = LITE(db);
	struct pollfd	 pfd;
	char		 c;
	int		 rc = 0;

	if (l->wake_in == -1 && wake_listen(l, kind, only) == -1)
		rc = -1;
	/* Without a socket (fd -1) poll only waits. */
	pfd.fd = l->wake_in;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_ms) > 0)
		/* A burst of wake-ups is one: read them all. */
		while (recv(l->wake_in, &c, 1, 0) >= 0)
			rc = 1;
	return rc;
}

static const struct db_ops lite_ops = {
	lite_close, lite_exec, lite_begin, lite_commit, lite_rollback,
	lite_in_tx, lite_changes, lite_prepare, lite_finalize,
	lite_param_count, lite_bind_text, lite_bind_int64, lite_bind_double,
	lite_step, lite_reset, lite_clear, lite_column_text, lite_column_int64,
	lite_column_double, NULL, lite_wake_send, lite_wake_wait
};

/*
 * Waits for a lock another connection holds, up to DB_WAIT_MS.  SQLite's
 * own handler sleeps 1, 2, 5, 10 ... 100 ms between tries, but a delivery
 * holds the write lock for its inserts and one fsync, well under a
 * millisecond: waiters overslept, and under load queued behind each other
 * for seconds.  Polling every 50 us, then every ms after the first 5 ms,
 * hands the lock over about as soon as it is free.
 */
static int
on_busy(void *arg, int tries)
{
	struct lite	*l = arg;
	struct timespec	 ts;
	int64_t		 now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (tries == 0)
		l->wait_from = now;
	if (now - l->wait_from >= (int64_t)(l->wait_max_ms > 0 ?
	    l->wait_max_ms : DB_WAIT_MS) * 1000)
		return 0;
	usleep(now - l->wait_from < 5000 ? 50u : 1000u);
	return 1;
}

/*
 * greatest() and least() as PostgreSQL has them: NULLs are skipped, and
 * the result is NULL only when every argument is.
 */
static void
extreme(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int		 sign = *(int *)sqlite3_user_data(ctx), i, c;
	sqlite3_value	*best = NULL;

	for (i = 0; i < argc; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
			continue;
		if (best == NULL)
			c = 1;
		else if (sqlite3_value_type(argv[i]) == SQLITE_INTEGER &&
		    sqlite3_value_type(best) == SQLITE_INTEGER)
			c = (sqlite3_value_int64(argv[i]) >
			    sqlite3_value_int64(best)) -
			    (sqlite3_value_int64(argv[i]) <
			    sqlite3_value_int64(best));
		else
			c = (sqlite3_value_double(argv[i]) >
			    sqlite3_value_double(best)) -
			    (sqlite3_value_double(argv[i]) <
			    sqlite3_value_double(best));
		if (best == NULL || c * sign > 0)
			best = argv[i];
	}
	if (best != NULL)
		sqlite3_result_value(ctx, best);
	else
		sqlite3_result_null(ctx);
}

struct db *
db_sqlite_open(const char *path)
{
	static int	 up = 1, down = -1;
	struct lite	*l;
	int		 fd;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->db.ops = &lite_ops;
	l->db.engine = DB_SQLITE;
	l->wake_out = l->wake_in = -1;
	/* A file's path, also where its wake-up sockets are named from. */
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0 &&
	    (l->path = strdup(path)) == NULL) {
		free(l);
		return NULL;
	}
	/*
	 * Created owner-only before SQLite opens it: SQLite gives the -wal
	 * and -shm files the database's mode, and the database holds sealed
	 * tokens, hashed secrets and every link.  Only when it does not
	 * exist (O_EXCL): closing a descriptor of a file drops every POSIX
	 * lock the process holds on it, so closing one while another
	 * connection of this process (the metrics' thread) has it open would
	 * let another process take it for unused and delete its WAL.
	 */
	if (l->path != NULL && (fd = open(path, O_RDWR | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600)) != -1)
		close(fd);
	if (sqlite3_open_v2(path, &l->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		db_fail(&l->db, DB_FAILED, l->h != NULL ? sqlite3_errmsg(l->h) :
		    "out of memory");
		return &l->db;
	}
	l->db.handle = l->h;
	sqlite3_busy_handler(l->h, on_busy, l);
	sqlite3_extended_result_codes(l->h, 1);
	if (sqlite3_create_function(l->h, "greatest", -1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, &up, extreme, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(l->h, "least", -1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, &down, extreme, NULL, NULL) != SQLITE_OK)
		fail(l);
	else if (lite_exec(&l->db, "PRAGMA journal_mode = WAL") == 0)
		lite_exec(&l->db, "PRAGMA synchronous = FULL");
	return &l->db;
}

int
db_sqlite_threadsafe(void)
{
	return sqlite3_threadsafe() != 0;
}
