#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "store/store_int.h"

int
store_admin_add(struct store *s, const char *name, const char *pw_hash)
{
	static const char sql[] = "INSERT INTO admin_user (name, pw_hash,"
	    " created_at) VALUES (?, ?, ?)";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, pw_hash);
	db_bind_double(st, 3, util_now());
	return store_exec_stmt(s, st, "admin add");
}

int
store_admin_get(struct store *s, const char *name, struct store_admin *a)
{
	static const char sql[] = "SELECT id, name, pw_hash, failures,"
	    " coalesce(last_failure_at, 0) FROM admin_user WHERE name = ?";
	struct db_stmt	*st;
	int		 rc;

	memset(a, 0, sizeof(*a));
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, name);
	if ((rc = db_step(st)) == DB_ROW) {
		a->id = db_column_int64(st, 0);
		store_text_fixed(st, 1, a->name, sizeof(a->name));
		rc = store_text(st, 2, &a->pw_hash) == -1 ? -1 : 0;
		a->failures = db_column_int64(st, 3);
		a->last_failure_at = db_column_double(st, 4);
	} else
		rc = rc == DB_DONE ? STORE_NOTFOUND :
		    store_fail(s, "admin get");
	db_reset(st);
	if (rc == 0 && a->pw_hash == NULL)
		rc = -1;
	return rc;
}

void
store_admin_release(struct store_admin *a)
{
	free(a->pw_hash);
	memset(a, 0, sizeof(*a));
}

int
store_admin_passwd(struct store *s, const char *name, const char *pw_hash)
{
	/* A new password ends the user's sessions, stolen ones included. */
	static const char sql[] = "UPDATE admin_user SET pw_hash = ?"
	    " WHERE name = ?";
	static const char end[] = "DELETE FROM session WHERE user_id ="
	    " (SELECT id FROM admin_user WHERE name = ?)";
	struct db_stmt	*st;
	int		 n;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, pw_hash);
	db_bind_text(st, 2, name);
	if (store_exec_stmt(s, st, "admin passwd") != 0)
		return -1;
	if ((n = db_changes(s->conn)) != 1)
		return STORE_NOTFOUND;
	if ((st = store_stmt(s, end)) == NULL)
		return -1;
	db_bind_text(st, 1, name);
	return store_exec_stmt(s, st, "admin sessions end");
}

int
store_admin_remove(struct store *s, const char *name)
{
	/* Sessions and browsers go with the user (ON DELETE CASCADE). */
	static const char sql[] = "DELETE FROM admin_user WHERE name = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, name);
	if (store_exec_stmt(s, st, "admin remove") != 0)
		return -1;
	return db_changes(s->conn) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_login_get(struct store *s, const char *key, long long *failures,
    double *last)
{
	/*
	 * In a transaction that counts a failure next: SQLite's write lock
	 * keeps two of them from reading the same count; on PostgreSQL a
	 * lock on the key does (the row may not exist yet), so parallel
	 * guesses get no extra tries there either.  The row always comes
	 * back, empty when the key has no failures.
	 */
	static const char lite[] = "SELECT failures, last_failure_at FROM"
	    " login_throttle WHERE key = ?";
	static const char pg[] = "SELECT t.failures, t.last_failure_at FROM"
	    " (SELECT pg_advisory_xact_lock(hashtext(CAST(?1 AS TEXT)))) k"
	    " LEFT JOIN login_throttle t ON t.key = ?1";
	struct db_stmt	*st;
	int		 rc;

	*failures = 0;
	*last = 0;
	if ((st = store_stmt(s, STORE_SQL(s, lite, pg))) == NULL)
		return -1;
	db_bind_text(st, 1, key);
	if ((rc = db_step(st)) == DB_ROW) {
		*failures = db_column_int64(st, 0);
		*last = db_column_double(st, 1);
		rc = 0;
	} else
		rc = rc == DB_DONE ? 0 : store_fail(s, "login get");
	db_reset(st);
	return rc;
}

int
store_login_failed(struct store *s, const char *key, double now)
{
	static const char sql[] = "INSERT INTO login_throttle (key, failures,"
	    " last_failure_at) VALUES (?1, 1, ?2) ON CONFLICT (key) DO UPDATE"
	    " SET failures = login_throttle.failures + 1, last_failure_at = ?2";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, key);
	db_bind_double(st, 2, now);
	return store_exec_stmt(s, st, "login failure");
}

int
store_login_reset(struct store *s, const char *key)
{
	static const char sql[] = "DELETE FROM login_throttle WHERE key = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, key);
	return store_exec_stmt(s, st, "login reset");
}

int
store_device_add(struct store *s, const char *token_hash, long long user_id,
    double now)
{
	static const char sql[] = "INSERT INTO login_device (token_hash,"
	    " user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, token_hash);
	db_bind_int64(st, 2, user_id);
	db_bind_double(st, 3, now);
	return store_exec_stmt(s, st, "device add");
}

int
store_device_of(struct store *s, const char *token_hash, long long user_id)
{
	static const char sql[] = "SELECT 1 FROM login_device WHERE"
	    " token_hash = ? AND user_id = ?";
	struct db_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, token_hash);
	db_bind_int64(st, 2, user_id);
	rc = db_step(st);
	rc = rc == DB_ROW ? 1 : rc == DB_DONE ? 0 :
	    store_fail(s, "device get");
	db_reset(st);
	return rc;
}

int
store_session_add(struct store *s, const char *id_hash, long long user_id,
    const char *csrf, double now, double expires)
{
	static const char sql[] = "INSERT INTO session (id_hash, user_id,"
	    " csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, id_hash);
	db_bind_int64(st, 2, user_id);
	db_bind_text(st, 3, csrf);
	db_bind_double(st, 4, now);
	db_bind_double(st, 5, expires);
	return store_exec_stmt(s, st, "session add");
}

int
store_session_get(struct store *s, const char *id_hash, double now,
    struct store_session *out)
{
	static const char sql[] = "SELECT s.user_id, u.name, s.csrf,"
	    " s.created_at, s.expires_at FROM session s JOIN admin_user u"
	    " ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?";
	struct db_stmt	*st;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, id_hash);
	db_bind_double(st, 2, now);
	if ((rc = db_step(st)) == DB_ROW) {
		out->user_id = db_column_int64(st, 0);
		store_text_fixed(st, 1, out->user, sizeof(out->user));
		store_text_fixed(st, 2, out->csrf, sizeof(out->csrf));
		out->created_at = db_column_double(st, 3);
		out->expires_at = db_column_double(st, 4);
		rc = 0;
	} else
		rc = rc == DB_DONE ? STORE_NOTFOUND :
		    store_fail(s, "session get");
	db_reset(st);
	return rc;
}

int
store_session_touch(struct store *s, const char *id_hash, double expires)
{
	static const char sql[] = "UPDATE session SET expires_at = ?"
	    " WHERE id_hash = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_double(st, 1, expires);
	db_bind_text(st, 2, id_hash);
	return store_exec_stmt(s, st, "session touch");
}

int
store_session_delete(struct store *s, const char *id_hash)
{
	static const char sql[] = "DELETE FROM session WHERE id_hash = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, id_hash);
	return store_exec_stmt(s, st, "session delete");
}

int
store_session_prune(struct store *s, double now)
{
	static const char sql[] = "DELETE FROM session WHERE expires_at <= ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_double(st, 1, now);
	return store_exec_stmt(s, st, "session prune");
}

int
store_job_revive_in(struct store *s, const char *iid, long long id,
    double now)
{
	static const char sql[] = "SELECT 1 FROM job WHERE id = ?"
	    " AND integration_id = ? AND state = 'dead'";
	struct db_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, iid);
	rc = db_step(st);
	db_reset(st);
	if (rc == DB_DONE)
		return STORE_NOTFOUND;
	if (rc != DB_ROW)
		return store_fail(s, "job revive check");
	return store_job_revive(s, id, now);
}

int
store_token_add(struct store *s, const char *name, const char *token_hash,
    const char *role, double now)
{
	static const char sql[] = "INSERT INTO api_token (name, token_hash,"
	    " role, created_at) VALUES (?, ?, ?, ?)";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, token_hash);
	db_bind_text(st, 3, role);
	db_bind_double(st, 4, now);
	return store_exec_stmt(s, st, "token add");
}

int
store_token_remove(struct store *s, const char *name)
{
	static const char sql[] = "DELETE FROM api_token WHERE name = ?";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, name);
	if (store_exec_stmt(s, st, "token remove") != 0)
		return -1;
	return db_changes(s->conn) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_token_role(struct store *s, const char *token_hash, char role[16])
{
	static const char sql[] =
	    "SELECT role FROM api_token WHERE token_hash = ?";
	struct db_stmt	*st;
	int		 rc;

	role[0] = '\0';
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, token_hash);
	if ((rc = db_step(st)) == DB_ROW)
		store_text_fixed(st, 0, role, 16);
	db_reset(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? STORE_NOTFOUND : store_fail(s, "token role");
}
