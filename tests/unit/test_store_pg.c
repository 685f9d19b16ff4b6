/*
 * test_store_pg: what the store guarantees on PostgreSQL where several
 * connections meet, against the server PBSYNC_TEST_PG names (the
 * throwaway one of tests/pg/cluster): leases taken with FOR UPDATE SKIP
 * LOCKED and taken over past their deadline, a delivery's dedupe from two
 * connections, transactions run again after their connection was ended
 * or a deadlock, and the schema both engines make of schema.sql.
 * Without PBSYNC_TEST_PG it is skipped (tests/pg/test_pg.py runs it).
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/util.h"
#include "store/db.h"
#include "store/store.h"
#include "t.h"
#include "tstore.h"

#define IID	"0123456789abcdef0123456789abcdef"

static char	 where[1024];	/* this test's schema */
static struct db *admin;	/* a connection of the test's own */

/* The rows of a query, one line each, in a static buffer. */
static const char *
rows(struct db *d, const char *sql)
{
	static char	 out[8192];
	struct db_stmt	*st;
	struct buf	 b;
	int		 rc;

	buf_init(&b, sizeof(out) - 1);
	if ((st = db_prepare(d, sql)) == NULL) {
		printf("# %s: %s\n", sql, db_errmsg(d));
		return "(bad query)";
	}
	while ((rc = db_step(st)) == DB_ROW)
		buf_printf(&b, "%s%s", b.len > 0 ? "\n" : "",
		    db_column_text(st, 0) != NULL ? db_column_text(st, 0) : "");
	if (rc != DB_DONE)
		printf("# %s: %s\n", sql, db_errmsg(d));
	db_finalize(st);
	snprintf(out, sizeof(out), "%s", b.len > 0 ? buf_str(&b) : "");
	buf_release(&b);
	return out;
}

static int
open_store(struct store *s)
{
	return store_open(s, where);
}

static void
integration(struct store *s)
{
	struct store_integration in;

	memset(&in, 0, sizeof(in));
	snprintf(in.id, sizeof(in.id), "%s", IID);
	in.name = "Team A";
	in.column_label = "GitLab";
	in.pb_token = in.tracker_token = "v1.sealed";
	in.pb_token_tail = in.tracker_token_tail = "abcd";
	in.tracker_kind = "gitlab";
	in.tracker_url = "https://gitlab.com";
	in.tracker_project = "42";
	in.tracker_project_name = "grp/proj";
	in.plugin_secret = "h1";
	in.pb_hook_secret = "h2";
	in.tracker_hook_secret = "h3";
	CHECK_INT(store_integration_insert(s, &in), 0);
}

/* -- leases ------------------------------------------------------------ */

/* A child that leases until nothing is left and writes the ids to fd. */
static void
lease_all(int fd, double now)
{
	struct store	 s;
	struct store_job j;
	long long	 id;

	if (open_store(&s) != 0)
		_exit(1);
	while (store_job_lease(&s, now, 60, NULL, 0, &j) == 0) {
		id = j.id;
		if (write(fd, &id, sizeof(id)) != sizeof(id))
			_exit(1);
		store_job_release(&j);
	}
	store_close(&s);
	_exit(0);
}

static int
cmp_ll(const void *a, const void *b)
{
	long long	 x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void
leases(void)
{
	struct store	 a, b;
	struct store_job j, k;
	double		 now = util_now();
	long long	 ids[400];
	char		 key[16];
	size_t		 n = 0, i, dup = 0;
	int		 p[2], st, ok = 1;
	pid_t		 w[2];

	CHECK_INT(open_store(&a), 0);
	CHECK_INT(open_store(&b), 0);
	CHECK_INT(store_job_enqueue(&a, IID, "sync", "l1", "{}", now - 3), 0);
	CHECK_INT(store_job_enqueue(&a, IID, "sync", "l2", "{}", now - 2), 0);
	CHECK_INT(store_job_enqueue(&a, IID, "sync", "l3", "{}", now - 1), 0);

	/* A job another transaction holds is passed over, not waited for. */
	CHECK_INT(db_begin(admin, 0), 0);
	CHECK_STR(rows(admin, "SELECT key FROM job WHERE key = 'l1' FOR UPDATE"),
	    "l1");
	CHECK_INT(store_job_lease(&a, now, 60, NULL, 0, &j), 0);
	CHECK_STR(j.key, "l2");
	CHECK_INT(store_job_lease(&b, now, 60, NULL, 0, &k), 0);
	CHECK_STR(k.key, "l3");
	store_job_release(&j);
	store_job_release(&k);
	CHECK_INT(store_job_lease(&a, now, 60, NULL, 0, &j), STORE_NOTFOUND);
	db_rollback(admin);
	CHECK_INT(store_job_lease(&b, now, 60, NULL, 0, &k), 0);
	CHECK_STR(k.key, "l1");
	store_job_release(&k);

	/* Past their deadline, leases are taken over, each by one lessee. */
	CHECK_INT(store_job_lease(&a, now + 100, 60, NULL, 0, &j), 0);
	CHECK_INT(store_job_lease(&b, now + 100, 60, NULL, 0, &k), 0);
	CHECK_STR(j.key, "l1");
	CHECK_STR(k.key, "l2");
	CHECK_INT(j.attempts, 2);
	CHECK_INT(store_job_done(&a, &j), 0);
	CHECK_INT(store_job_done(&b, &k), 0);
	store_job_release(&j);
	store_job_release(&k);
	CHECK_INT(store_job_lease(&a, now + 30, 60, NULL, 0, &j),
	    STORE_NOTFOUND);		/* l3's lease still runs */
	CHECK_INT(store_job_lease(&a, now + 100, 60, NULL, 0, &j), 0);
	CHECK_INT(store_job_done(&a, &j), 0);
	store_job_release(&j);

	/* Two workers draining one queue at once never share a job. */
	store_begin(&a);
	for (i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "w%zu", i);
		store_job_enqueue(&a, IID, "sync", key, "{}", now);
	}
	CHECK_INT(store_commit(&a), 0);
	if (pipe(p) == -1)
		return;
	for (i = 0; i < 2; i++)
		if ((w[i] = fork()) == 0) {
			close(p[0]);
			lease_all(p[1], now);
		}
	close(p[1]);
	while (n < sizeof(ids) / sizeof(ids[0]) &&
	    read(p[0], &ids[n], sizeof(ids[n])) == sizeof(ids[n]))
		n++;
	close(p[0]);
	for (i = 0; i < 2; i++)
		ok &= waitpid(w[i], &st, 0) == w[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0;
	CHECK(ok);
	CHECK_INT(n, 300);
	qsort(ids, n, sizeof(ids[0]), cmp_ll);
	for (i = 1; i < n; i++)
		dup += ids[i] == ids[i - 1];
	CHECK_INT(dup, 0);
	CHECK_STR(rows(admin, "SELECT count(*) FROM job WHERE state = 'leased'"
	    " AND key LIKE 'w%'"), "300");
	store_close(&a);
	store_close(&b);
}

/* -- a delivery from two connections ----------------------------------- */

/*
 * One connection records key in a transaction it holds open; a second
 * records it meanwhile: it waits, then gets what the first's end leaves.
 */
static int
second_sees(const char *key, int commit)
{
	struct store	 a, b;
	struct pollfd	 pfd;
	char		 r = -1;
	int		 p[2], st, waited;
	pid_t		 pid;

	if (open_store(&a) != 0 || pipe(p) == -1)
		return -2;
	store_begin(&a);
	store_delivery_seen(&a, IID, "tracker", key, util_now());
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (open_store(&b) == 0)
			r = (char)store_delivery_seen(&b, IID, "tracker", key,
			    util_now());
		(void)!write(p[1], &r, 1);
		_exit(0);
	}
	close(p[1]);
	usleep(300000);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	waited = poll(&pfd, 1, 0) == 0;
	CHECK(waited);		/* the second waits for the first */
	if (commit)
		store_commit(&a);
	else
		store_rollback(&a);
	if (read(p[0], &r, 1) != 1)
		r = -2;
	close(p[0]);
	waitpid(pid, &st, 0);
	store_close(&a);
	return r;
}

static void
dedupe(void)
{
	CHECK_INT(second_sees("d1", 1), STORE_EXISTS);
	CHECK_INT(second_sees("d2", 0), 0);
	CHECK_STR(rows(admin, "SELECT key FROM delivery WHERE key IN ('d1',"
	    " 'd2') ORDER BY key"), "d1\nd2");
}

/* -- runs again ---------------------------------------------------------- */

/* Ends the server process of pid and waits until it is gone. */
static void
terminate(const char *pid)
{
	char	 sql[128];
	int	 i;

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%s)", pid);
	CHECK_STR(rows(admin, sql), "t");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity"
	    " WHERE pid = %s", pid);
	for (i = 0; i < 50 && strcmp(rows(admin, sql), "0") != 0; i++)
		usleep(100000);
}

struct run {
	const char	*key;
	int		 end_it;	/* end the connection in the first run */
	int		 runs;
};

/* A delivery's transaction, as the webhooks run it. */
static int
delivery(struct store *s, void *arg)
{
	struct run	*r = arg;
	char		 pid[32];
	int		 rc;

	r->runs++;
	if ((rc = store_delivery_seen(s, IID, "tracker", r->key,
	    util_now())) != 0)
		return rc;
	if (r->end_it && r->runs == 1) {
		snprintf(pid, sizeof(pid), "%s", rows(s->conn,
		    "SELECT pg_backend_pid()"));
		terminate(pid);
	}
	return store_job_enqueue(s, IID, "sync", r->key, "{}", util_now()) !=
	    0 ? -1 : 0;
}

static void
reconnect(void)
{
	struct store	 s;
	struct run	 r = { "r1", 1, 0 }, again = { "r1", 0, 0 };
	char		 pid[32];

	CHECK_INT(open_store(&s), 0);
	/* Ended in the middle: reconnected, run again, applied once. */
	CHECK_INT(store_tx(&s, delivery, &r), 0);
	CHECK_INT(r.runs, 2);
	CHECK_STR(rows(admin, "SELECT count(*) FROM delivery WHERE key = 'r1'"),
	    "1");
	CHECK_STR(rows(admin, "SELECT count(*) FROM job WHERE key = 'r1'"),
	    "1");
	/* A run after its commit finds its rows: a duplicate, nothing new. */
	CHECK_INT(store_tx(&s, delivery, &again), STORE_EXISTS);
	CHECK_STR(rows(admin, "SELECT count(*) FROM job WHERE key = 'r1'"),
	    "1");
	/*
	 * Ended in a transaction whose body goes on after an error: no later
	 * statement of it runs on a new connection on its own.
	 */
	CHECK_INT(store_begin(&s), 0);
	CHECK_INT(store_delivery_seen(&s, IID, "tracker", "r2", util_now()), 0);
	snprintf(pid, sizeof(pid), "%s", rows(s.conn,
	    "SELECT pg_backend_pid()"));
	terminate(pid);
	CHECK_INT(store_job_cancel(&s, IID, "sync", "r2"), -1);
	CHECK_INT(store_job_enqueue(&s, IID, "sync", "r2", "{}", util_now()), -1);
	CHECK_INT(store_commit(&s), -1);
	CHECK_STR(rows(admin, "SELECT count(*) FROM job WHERE key = 'r2'"), "0");
	CHECK_STR(rows(admin, "SELECT count(*) FROM delivery WHERE key = 'r2'"),
	    "0");
	/* Ended while idle: the next statement reconnects first. */
	snprintf(pid, sizeof(pid), "%s", rows(s.conn,
	    "SELECT pg_backend_pid()"));
	terminate(pid);
	CHECK_INT(store_delivery_known(&s, IID, "tracker", "r1"), 1);
	CHECK(strcmp(rows(s.conn, "SELECT pg_backend_pid()"), pid) != 0);
	store_close(&s);
}

struct touch {
	long long	 first, then;
	int		 runs;
};

/* Updates two links in the order given, with time between. */
static int
touch_two(struct store *s, void *arg)
{
	struct touch	*t = arg;

	t->runs++;
	if (store_link_touch(s, t->first, 1) != 0)
		return -1;
	usleep(300000);
	return store_link_touch(s, t->then, 2) != 0 ? -1 : 0;
}

/* Two transactions locking two links in opposite orders: both commit. */
static void
deadlock(void)
{
	struct store	 s, c;
	struct store_link l1, l2;
	struct touch	 mine, theirs;
	int		 st, rc;
	pid_t		 pid;

	CHECK_INT(open_store(&s), 0);
	CHECK_INT(store_link_claim(&s, IID, "f1", "", &l1), 0);
	CHECK_INT(store_link_claim(&s, IID, "f2", "", &l2), 0);
	mine = (struct touch){ l1.id, l2.id, 0 };
	theirs = (struct touch){ l2.id, l1.id, 0 };
	store_link_release(&l1);
	store_link_release(&l2);
	if ((pid = fork()) == 0) {
		/* Its own connection; the parent's is left alone. */
		if (open_store(&c) != 0)
			_exit(99);
		rc = store_tx(&c, touch_two, &theirs);
		store_close(&c);
		_exit(rc != 0 ? 99 : theirs.runs);
	}
	usleep(100000);
	CHECK_INT(store_tx(&s, touch_two, &mine), 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) != 99);
	/* The one the server chose as the victim ran twice. */
	CHECK_INT(mine.runs + WEXITSTATUS(st), 3);
	store_close(&s);
}

/* -- what differs from SQLite ------------------------------------------ */

/*
 * An error ends a PostgreSQL transaction (SQLite undoes the statement
 * alone): its commit fails and nothing of it stays.  A server whose
 * default is not to wait for the disk at commit still waits for pbsync.
 */
static void
engine(void)
{
	struct store	 s;
	struct store_integration in;
	char		 lazy[1200], role[16];

	CHECK_INT(open_store(&s), 0);
	/* A statement prepared while errno holds an earlier call's error. */
	errno = ERANGE;
	CHECK_INT(store_token_role(&s, "no such hash", role), STORE_NOTFOUND);
	CHECK_INT(store_begin(&s), 0);
	CHECK_INT(store_job_enqueue(&s, IID, "sync", "e1", "{}", 1), 0);
	CHECK_INT(store_integration_get(&s, IID, &in), 0);
	CHECK_INT(store_integration_insert(&s, &in), STORE_EXISTS);
	store_integration_release(&in);
	CHECK_INT(store_commit(&s), -1);
	CHECK_STR(rows(admin, "SELECT count(*) FROM job WHERE key = 'e1'"), "0");
	CHECK_INT(db_in_tx(s.conn), 0);
	store_close(&s);

	snprintf(lazy, sizeof(lazy), "%s%%20-csynchronous_commit%%3Doff",
	    where);
	CHECK_INT(store_open(&s, lazy), 0);
	CHECK_STR(rows(admin, "SHOW synchronous_commit"), "on");
	CHECK_STR(rows(s.conn, "SHOW synchronous_commit"), "on");
	store_close(&s);
}

/* -- one schema --------------------------------------------------------- */

/* The same tables, columns, indexes, references and triggers on both. */
static void
schema(void)
{
	static const char *const lite[] = {
		"SELECT m.name || '.' || p.name || ' ' || CASE p.type"
		" WHEN 'INTEGER' THEN 'bigint' WHEN 'REAL' THEN"
		" 'double precision' ELSE lower(p.type) END ||"
		" CASE WHEN p.\"notnull\" OR p.pk THEN ' not null' ELSE '' END"
		" FROM sqlite_master m, pragma_table_info(m.name) p"
		" WHERE m.type = 'table' ORDER BY m.name, p.cid",
		"SELECT name FROM sqlite_master WHERE type = 'index'"
		" AND sql IS NOT NULL ORDER BY name",
		"SELECT m.name || ' -> ' || f.\"table\" || ' ' || f.on_delete"
		" FROM sqlite_master m, pragma_foreign_key_list(m.name) f"
		" WHERE m.type = 'table' ORDER BY 1",
		"SELECT name FROM sqlite_master WHERE type = 'trigger'"
		" ORDER BY name",
	};
	static const char *const pg[] = {
		"SELECT table_name || '.' || column_name || ' ' || data_type ||"
		" CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END"
		" FROM information_schema.columns"
		" WHERE table_schema = current_schema()"
		" AND table_name <> 'pbsync_schema'"
		" ORDER BY table_name, ordinal_position",
		"SELECT c.relname FROM pg_index i JOIN pg_class c"
		" ON c.oid = i.indexrelid WHERE c.relnamespace ="
		" current_schema()::regnamespace AND NOT EXISTS (SELECT 1 FROM"
		" pg_constraint k WHERE k.conindid = i.indexrelid)"
		" ORDER BY c.relname",
		"SELECT t.relname || ' -> ' || r.relname || ' ' ||"
		" CASE c.confdeltype WHEN 'c' THEN 'CASCADE' ELSE 'NO ACTION' END"
		" FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
		" JOIN pg_class r ON r.oid = c.confrelid WHERE c.contype = 'f'"
		" AND t.relnamespace = current_schema()::regnamespace"
		" ORDER BY t.relname, r.relname",
		"SELECT g.tgname FROM pg_trigger g JOIN pg_class t"
		" ON t.oid = g.tgrelid WHERE NOT g.tgisinternal"
		" AND t.relnamespace = current_schema()::regnamespace"
		" ORDER BY g.tgname",
	};
	struct store	 s, l;
	char		 want[8192];
	size_t		 i;

	CHECK_INT(open_store(&s), 0);
	CHECK_INT(store_open(&l, ":memory:"), 0);
	for (i = 0; i < sizeof(pg) / sizeof(pg[0]); i++) {
		snprintf(want, sizeof(want), "%s", rows(l.conn, lite[i]));
		CHECK(strlen(want) > 0);
		CHECK_STR(rows(s.conn, pg[i]), want);
	}
	store_close(&l);
	store_close(&s);
}

int
main(void)
{
	struct store	 s;

	if (!t_store_pg()) {
		printf("1..0 # SKIP PBSYNC_TEST_PG names no PostgreSQL database"
		    "\n");
		return 0;
	}
	log_open("test_store_pg", LOGL_ERR, NULL);
	snprintf(where, sizeof(where), "%s", t_store_where(NULL));
	if (!(CHECK_INT(db_open(&admin, where), 0)) ||
	    !(CHECK_INT(store_open(&s, where), 0)))
		return t_done();
	integration(&s);
	store_close(&s);
	schema();
	leases();
	dedupe();
	reconnect();
	deadlock();
	engine();
	db_close(admin);
	t_store_done();
	return t_done();
}
