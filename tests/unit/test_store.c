#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/log.h"
#include "base/util.h"
#include "store/store.h"
#include "t.h"
#include "tstore.h"

extern const char store_schema_sql[];

/* A value of a one-row query on db, or "" (a static buffer). */
static const char *
one(sqlite3 *db, const char *sql)
{
	static char	 v[512];
	sqlite3_stmt	*st;

	v[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return "(bad query)";
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(v, sizeof(v), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/*
 * Schema 4 makes the tracker side neutral: a database of schema 3 with a
 * GitLab integration, a link, a delivery key and an unmark job opens with
 * every value carried over under the new names.
 */
static void
migration_4(void)
{
	static const char rows[] =
	    "INSERT INTO integration (id, name, column_label, pb_token,"
	    " pb_token_tail, gl_base_url, gl_token, gl_token_tail,"
	    " gl_project_id, gl_project_path, gl_project_url, gl_hook_id,"
	    " plugin_secret, pb_hook_secret, gl_hook_secret, status_map,"
	    " conflict_policy, created_at, updated_at) VALUES"
	    " ('0123456789abcdef0123456789abcdef', 'T', 'GitLab', 'p', 'abcd',"
	    " 'https://gl.example', 'g', 'wxyz', 1001, 'grp/proj',"
	    " 'https://gl.example/grp/proj', 7, 'h1', 'h2', 'h3',"
	    " '{\"to_gitlab\":{\"s1\":{\"state\":\"closed\"}},"
	    "\"to_productboard\":{}}', 'gitlab', 1, 1);"
	    "INSERT INTO link (integration_id, feature_id, state,"
	    " issue_project_id, issue_iid, issue_id, snap_gl_desc, created_at,"
	    " updated_at) VALUES ('0123456789abcdef0123456789abcdef', 'f1',"
	    " 'linked', 1001, 12, 5012, 'desc', 1, 1);"
	    "INSERT INTO delivery VALUES ('0123456789abcdef0123456789abcdef',"
	    " 'gitlab', 'key-1', 1);"
	    "INSERT INTO job (integration_id, kind, key, payload, run_at,"
	    " created_at, updated_at) VALUES"
	    " ('0123456789abcdef0123456789abcdef', 'unmark', '5012',"
	    " '{\"project_id\":1001,\"iid\":12}', 1, 1, 1);"
	    "PRAGMA user_version = 3;";
	char		 path[] = "/tmp/pbsync-test-store-XXXXXX", wal[64];
	const char	*v4 = strstr(store_schema_sql, "\n-- version 4");
	struct store	 s;
	sqlite3		*db;
	char		*old;
	int		 fd;

	if ((fd = mkstemp(path)) == -1 || v4 == NULL)
		return;
	close(fd);
	old = strndup(store_schema_sql, (size_t)(v4 - store_schema_sql));
	sqlite3_open(path, &db);
	CHECK_INT(sqlite3_exec(db, old, NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(old);
	CHECK_INT(store_open(&s, path), 0);
	CHECK_INT(store_schema_version(&s), store_latest_version());
	store_close(&s);
	sqlite3_open(path, &db);
	CHECK_STR(one(db, "SELECT tracker_kind || ' ' || tracker_url || ' ' ||"
	    " tracker_project || ' ' || tracker_project_name || ' ' ||"
	    " tracker_hook_id || ' ' || tracker_hook_secret || ' ' ||"
	    " tracker_token || ' ' || tracker_token_tail || ' ' ||"
	    " conflict_policy FROM integration"),
	    "gitlab https://gl.example 1001 grp/proj 7 h3 g wxyz tracker");
	CHECK_STR(one(db, "SELECT status_map FROM integration"),
	    "{\"to_productboard\":{},\"to_tracker\":{\"s1\":"
	    "{\"state\":\"closed\"}}}");
	CHECK_STR(one(db, "SELECT issue_id || ' ' || issue_ref || ' ' ||"
	    " issue_key || ' ' || snap_tracker_desc || ' ' || typeof(issue_id)"
	    " FROM link"), "5012 1001/12 #12 desc text");
	CHECK_STR(one(db, "SELECT source || ' ' || key FROM delivery"),
	    "tracker key-1");
	CHECK_STR(one(db, "SELECT payload FROM job"), "{\"ref\":\"1001/12\"}");
	CHECK_STR(one(db, "SELECT n FROM row_count WHERE name = 'link'"), "1");
	CHECK_STR(one(db, "PRAGMA foreign_key_check"), "");
	sqlite3_close(db);
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
}

/* The database setting: which engine it names, and how it is shown. */
static void
where(void)
{
	static const struct {
		const char	*setting, *shown;
		int		 pg;
	} t[] = {
		{ "/var/lib/pbsync/pbsync.db", "/var/lib/pbsync/pbsync.db", 0 },
		{ ":memory:", ":memory:", 0 },
		{ "postgres.db", "postgres.db", 0 },
		{ "postgresql://pbsync:s3cret@db.example/pbsync?sslmode=require",
		    "postgresql://pbsync:***@db.example/pbsync?sslmode=require",
		    1 },
		{ "postgres://u@h/d?password=s3cret&sslmode=verify-full",
		    "postgres://u@h/d?password=***&sslmode=verify-full", 1 },
		{ "postgresql:///pbsync?host=/run/postgresql",
		    "postgresql:///pbsync?host=/run/postgresql", 1 },
		{ "service=pbsync", "service=pbsync", 1 },
		{ "service=pbsync password=s3cret", "service=pbsync password=***",
		    1 },
	};
	char	 out[128];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		store_where(t[i].setting, out, sizeof(out));
		CHECK_STR(out, t[i].shown);
		CHECK_INT(store_postgresql(t[i].setting), t[i].pg);
	}
	store_where(t[3].setting, out, 12);
	CHECK_STR(out, "postgresql:");
}

static void
fill(struct store_integration *in, const char *id)
{
	memset(in, 0, sizeof(*in));
	snprintf(in->id, sizeof(in->id), "%s", id);
	in->name = "Team A";
	in->column_label = "GitLab";
	in->pb_token = "v1.sealed";
	in->pb_token_tail = "abcd";
	in->tracker_kind = "gitlab";
	in->tracker_url = "https://gitlab.com";
	in->tracker_token = "v1.sealed";
	in->tracker_token_tail = "wxyz";
	in->tracker_project = "42";
	in->tracker_project_name = "grp/proj";
	in->plugin_secret = "h1";
	in->pb_hook_secret = "h2";
	in->tracker_hook_secret = "h3";
}

/* Enqueues n due sync jobs on s. */
static void
due_jobs(struct store *s, const char *id, int n)
{
	char	 key[32];
	int	 i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "feat-%d", i);
		CHECK_INT(store_job_enqueue(s, id, "sync", key, "{}",
		    util_now()), 0);
	}
}

/*
 * Wake-ups: a worker waiting on one connection (a SQLite file's socket,
 * a PostgreSQL LISTEN) is woken when another commits a due job of its
 * lane, once per commit, and not by a rollback, a job due later or a
 * job of the other lane.
 */
static void
wake_ups(void)
{
	const char	*id = "0123456789abcdef0123456789abcdef";
	const char	*tail[] = { "", "-wal", "-shm", ".wake", ".wake-notify" };
	char		 dir[] = "/tmp/test_store.XXXXXX", path[64], f[80];
	const char	*where;
	struct store	 rest, notify, q;
	struct store_integration in;
	int64_t		 t0;
	size_t		 i;

	if (!CHECK(mkdtemp(dir) != NULL))
		return;
	snprintf(path, sizeof(path), "%s/wake.db", dir);
	where = t_store_where(path);
	CHECK_INT(store_open(&q, where), 0);
	CHECK_INT(store_open(&rest, where), 0);
	CHECK_INT(store_open(&notify, where), 0);
	fill(&in, id);
	CHECK_INT(store_integration_insert(&q, &in), 0);
	/* Both lanes listen from their first wait on. */
	CHECK_INT(store_wake_wait(&rest, "notify", 0, 0), 0);
	CHECK_INT(store_wake_wait(&notify, "notify", 1, 0), 0);

	due_jobs(&q, id, 1);
	t0 = util_mono_ms();
	CHECK_INT(store_wake_wait(&rest, "notify", 0, 10000), 1);
	CHECK(util_mono_ms() - t0 < 5000);
	CHECK_INT(store_wake_wait(&notify, "notify", 1, 200), 0);

	/* Five in one transaction: one wake-up, at the commit. */
	CHECK_INT(store_begin(&q), 0);
	due_jobs(&q, id, 5);
	CHECK_INT(store_wake_wait(&rest, "notify", 0, 200), 0);
	CHECK_INT(store_commit(&q), 0);
	CHECK_INT(store_wake_wait(&rest, "notify", 0, 5000), 1);
	CHECK_INT(store_wake_wait(&rest, "notify", 0, 200), 0);

	CHECK_INT(store_begin(&q), 0);
	due_jobs(&q, id, 1);
	store_rollback(&q);
	CHECK_INT(store_begin(&q), 0);
	CHECK_INT(store_commit(&q), 0);		/* it queued nothing */
	CHECK_INT(store_job_enqueue(&q, id, "sync", "later", "{}",
	    util_now() + 3600), 0);
	CHECK_INT(store_wake_wait(&rest, "notify", 0, 300), 0);

	/* A notification wakes its own lane only. */
	CHECK_INT(store_job_enqueue(&q, id, "notify", "slack:m1", "{}",
	    util_now()), 0);
	CHECK_INT(store_wake_wait(&notify, "notify", 1, 5000), 1);
	CHECK_INT(store_wake_wait(&rest, "notify", 0, 200), 0);

	store_close(&q);
	store_close(&rest);
	store_close(&notify);
	for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", path, tail[i]);
		unlink(f);
	}
	rmdir(dir);
}

int
main(void)
{
	struct store	 s;
	struct store_integration in, got;
	struct store_link l, l2;
	struct store_job j;
	struct store_health h;
	const char	*id = "0123456789abcdef0123456789abcdef";
	double		 now = util_now(), until;

	log_open("test_store", LOGL_ERR, NULL);
	where();
	CHECK_INT(store_open(&s, t_store_where(":memory:")), 0);
	CHECK_INT(store_schema_version(&s), store_latest_version());
	CHECK(store_latest_version() >= 1);

	fill(&in, id);
	CHECK_INT(store_integration_insert(&s, &in), 0);
	CHECK_INT(store_integration_insert(&s, &in), STORE_EXISTS);
	fill(&in, "not-hex");
	CHECK_INT(store_integration_insert(&s, &in), STORE_EXISTS); /* CHECK */
	CHECK_INT(store_integration_get(&s, id, &got), 0);
	CHECK_STR(got.name, "Team A");
	CHECK_STR(got.tracker_project, "42");
	CHECK_STR(got.tracker_kind, "gitlab");
	CHECK_STR(got.conflict_policy, "latest");
	CHECK_STR(got.delete_policy, "keep");
	CHECK(got.pb_plugin_id == NULL);
	free(got.name);
	got.name = strdup("Renamed");
	got.pb_plugin_id = strdup("plug-1");
	CHECK_INT(store_integration_update(&s, &got), 0);
	store_integration_release(&got);
	CHECK_INT(store_integration_get(&s, id, &got), 0);
	CHECK_STR(got.name, "Renamed");
	CHECK_STR(got.pb_plugin_id, "plug-1");
	store_integration_release(&got);
	CHECK_INT(store_integration_get(&s, "ffffffffffffffffffffffffffffffff",
	    &got), STORE_NOTFOUND);

	/* A second claim of one feature finds the first. */
	CHECK_INT(store_link_claim(&s, id, "feat-1", "Jane", &l), 0);
	CHECK_STR(l.state, "pending");
	CHECK_INT(store_link_claim(&s, id, "feat-1", "Joe", &l2), STORE_EXISTS);
	CHECK_INT(l2.id, l.id);
	CHECK_STR(l2.pushed_by, "Jane");
	store_link_release(&l2);
	l.issue_id = "1007";
	l.issue_ref = "42/7";
	l.issue_key = "#7";
	l.issue_url = "https://gl/-/issues/7";
	l.issue_title = "T";
	l.issue_state = "opened";
	l.snap_name = "T";
	CHECK_INT(store_link_set_issue(&s, &l), 0);
	l.issue_url = l.issue_title = l.issue_state = l.snap_name = NULL;
	l.issue_id = l.issue_ref = l.issue_key = NULL;
	store_link_release(&l);
	CHECK_INT(store_link_get_by_issue(&s, id, "1007", &l), 0);
	CHECK_STR(l.state, "linked");
	CHECK_STR(l.issue_ref, "42/7");
	CHECK_STR(l.issue_key, "#7");
	store_link_release(&l);
	/*
	 * The sync lock: its time is the holder's token.  A holder past it
	 * whose lock another round took can neither unlock that round's lock
	 * nor write its own stale snapshot or pending record.
	 */
	CHECK_INT(store_link_get_by_issue(&s, id, "1007", &l), 0);
	CHECK_INT(store_link_lock(&s, l.id, now, now + 60), 0);
	CHECK_INT(store_link_lock(&s, l.id, now + 1, now + 61), STORE_EXISTS);
	l.lock_until = now + 60;
	free(l.snap_name);
	l.snap_name = strdup("mine");
	CHECK_INT(store_link_set_snapshot(&s, &l), 0);
	CHECK_INT(store_link_set_pending(&s, &l, "{}"), 0);
	CHECK_INT(store_link_lock(&s, l.id, now + 61, now + 121), 0);
	CHECK_INT(store_link_unlock(&s, l.id, now + 60), 0);
	CHECK_INT(store_link_lock(&s, l.id, now + 62, now + 122), STORE_EXISTS);
	free(l.snap_name);
	l.snap_name = strdup("stale");
	CHECK_INT(store_link_set_snapshot(&s, &l), STORE_NOTFOUND);
	CHECK_INT(store_link_set_pending(&s, &l, "{\"stale\":1}"),
	    STORE_NOTFOUND);
	CHECK_INT(store_link_get_by_id(&s, l.id, &l2), 0);
	CHECK_STR(l2.snap_name, "mine");
	CHECK_STR(l2.pending, "{}");
	store_link_release(&l2);
	/* The new holder's own writes and unlock still take. */
	l.lock_until = now + 121;
	CHECK_INT(store_link_set_snapshot(&s, &l), 0);
	CHECK_INT(store_link_unlock(&s, l.id, now + 121), 0);
	CHECK_INT(store_link_lock(&s, l.id, now + 62, now + 122), 0);
	CHECK_INT(store_link_unlock(&s, l.id, now + 122), 0);
	store_link_release(&l);

	/* Jobs: coalescing, leasing, retry, death, revival. */
	CHECK_INT(store_job_enqueue(&s, id, "sync", "feat-1", "{}", now), 0);
	CHECK_INT(store_job_enqueue(&s, id, "sync", "feat-1", "{\"n\":2}",
	    now + 10), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_ready, 1);				/* coalesced */
	CHECK_INT(store_job_lease(&s, now + 1, 60, NULL, 0, &j), 0);
	CHECK_STR(j.payload, "{\"n\":2}");
	CHECK_INT(j.attempts, 1);
	{ struct store_job j2;
	CHECK_INT(store_job_lease(&s, now + 1, 60, NULL, 0, &j2),
	    STORE_NOTFOUND); }	/* leased: nobody else gets it */
	/* A new event while leased makes a fresh ready job. */
	CHECK_INT(store_job_enqueue(&s, id, "sync", "feat-1", "{}", now), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_ready + h.jobs_leased, 2);
	CHECK_INT(store_job_retry(&s, &j, now + 5, "boom"), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_ready + h.jobs_leased, 1);	/* redundant one dropped */
	store_job_release(&j);
	CHECK_INT(store_job_lease(&s, now + 1, 60, NULL, 0, &j), 0);
	CHECK_INT(store_job_bury(&s, &j, "gave up"), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_dead, 1);
	CHECK_INT(store_job_revive(&s, j.id, now), 0);
	CHECK_INT(store_job_revive(&s, j.id, now), STORE_NOTFOUND);
	store_job_release(&j);
	/* Waiting (link busy) gives the lease's attempt back. */
	CHECK_INT(store_job_lease(&s, now + 1, 60, NULL, 0, &j), 0);
	CHECK_INT(j.attempts, 1);
	CHECK_INT(store_job_wait(&s, &j, now + 1, "link busy"), 0);
	store_job_release(&j);
	CHECK_INT(store_job_lease(&s, now + 1, 60, NULL, 0, &j), 0);
	CHECK_INT(j.attempts, 1);
	CHECK_INT(store_job_wait(&s, &j, now + 1, "link busy"), 0);
	store_job_release(&j);
	/*
	 * An expired lease is taken again (its holder died, or ran past
	 * it); the old holder's settle then leaves the new lease alone.
	 */
	{ struct store_job old;
	CHECK_INT(store_job_lease(&s, now + 1, 1, NULL, 0, &old), 0);
	CHECK(old.lease_until == now + 2);
	CHECK_INT(store_job_lease(&s, now + 3, 60, NULL, 0, &j), 0);
	CHECK_INT(j.id, old.id);
	CHECK_INT(store_job_done(&s, &old), STORE_NOTFOUND);
	CHECK_INT(store_job_retry(&s, &old, now + 3, "late"), STORE_NOTFOUND);
	CHECK_INT(store_job_wait(&s, &old, now + 3, "late"), STORE_NOTFOUND);
	CHECK_INT(store_job_bury(&s, &old, "late"), STORE_NOTFOUND);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_leased, 1);
	CHECK_INT(h.jobs_ready + h.jobs_dead, 0);
	store_job_release(&old);
	CHECK_INT(store_job_lease(&s, now + 3, 60, NULL, 0, &old),
	    STORE_NOTFOUND);	/* still the new holder's */
	store_job_release(&old); }
	CHECK_INT(store_job_done(&s, &j), 0);
	store_job_release(&j);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_ready + h.jobs_leased + h.jobs_dead, 0);
	/* Lanes: a runner of one kind, and a runner of all the others. */
	CHECK_INT(store_job_enqueue(&s, id, "notify", "slack:m1", "{}", now), 0);
	CHECK_INT(store_job_enqueue(&s, id, "sync", "feat-2", "{}", now + 1), 0);
	CHECK_INT(store_job_lease(&s, now + 2, 60, "notify", 0, &j), 0);
	CHECK_STR(j.kind, "sync");		/* the older notify is not its */
	CHECK_INT(store_job_done(&s, &j), 0);
	store_job_release(&j);
	CHECK_INT(store_job_lease(&s, now + 2, 60, "notify", 0, &j),
	    STORE_NOTFOUND);
	CHECK_INT(store_job_lease(&s, now + 2, 60, "notify", 1, &j), 0);
	CHECK_STR(j.kind, "notify");
	CHECK_INT(store_job_done(&s, &j), 0);
	store_job_release(&j);

	CHECK_INT(store_delivery_known(&s, id, "tracker", "k1"), 0);
	CHECK_INT(store_delivery_seen(&s, id, "tracker", "k1", now), 0);
	CHECK_INT(store_delivery_known(&s, id, "tracker", "k1"), 1);
	CHECK_INT(store_delivery_known(&s, id, "productboard", "k1"), 0);
	CHECK_INT(store_delivery_seen(&s, id, "tracker", "k1", now), STORE_EXISTS);
	CHECK_INT(store_delivery_seen(&s, id, "productboard", "k1", now), 0);
	/* Pruning: strictly older than the horizon, the oldest first. */
	CHECK_INT(store_delivery_seen(&s, id, "tracker", "old1", now - 300), 0);
	CHECK_INT(store_delivery_seen(&s, id, "tracker", "old2", now - 200), 0);
	CHECK_INT(store_delivery_seen(&s, id, "tracker", "edge", now - 100), 0);
	CHECK_INT(store_delivery_prune(&s, now - 100, 1), 1);
	CHECK_INT(store_delivery_known(&s, id, "tracker", "old1"), 0);
	CHECK_INT(store_delivery_known(&s, id, "tracker", "old2"), 1);
	CHECK_INT(store_delivery_prune(&s, now - 100, 5), 1);
	CHECK_INT(store_delivery_known(&s, id, "tracker", "old2"), 0);
	CHECK_INT(store_delivery_known(&s, id, "tracker", "edge"), 1);
	CHECK_INT(store_delivery_prune(&s, now - 100, 5), 0);
	CHECK_INT(store_delivery_known(&s, id, "tracker", "k1"), 1);
	CHECK_INT(store_delivery_prune(&s, now + 1, 5), 3);
	CHECK_INT(store_delivery_known(&s, id, "tracker", "k1"), 0);
	CHECK_INT(store_delivery_seen(&s, id, "tracker", "k1", now), 0);

	CHECK_INT(store_pause_set(&s, "tokhash", now + 2), 0);
	CHECK_INT(store_pause_set(&s, "tokhash", now + 1), 0);	/* keeps max */
	CHECK_INT(store_pause_get(&s, "tokhash", &until), 0);
	CHECK(until > now + 1.5);

	/* Deleting the integration removes its links and jobs. */
	CHECK_INT(store_job_enqueue(&s, id, "push", "feat-2", "{}", now), 0);
	CHECK_INT(store_integration_delete(&s, id), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.links + h.jobs_ready, 0);
	CHECK_INT(store_integration_delete(&s, id), STORE_NOTFOUND);
	store_close(&s);
	wake_ups();
	/* PostgreSQL databases start at a later version. */
	if (!t_store_pg())
		migration_4();
	t_store_done();
	return t_done();
}
