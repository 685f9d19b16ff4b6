#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "store/store_int.h"

int
store_job_enqueue(struct store *s, const char *iid, const char *kind,
    const char *key, const char *payload, double run_at)
{
	/*
	 * A waiting job for the same key absorbs the new one: it will fetch
	 * the current state anyway (DESIGN §3), so nothing is lost.  The
	 * earlier run time wins; the newer payload replaces the older one.
	 */
	static const char sql[] = "INSERT INTO job (integration_id, kind, key,"
	    " payload, run_at, created_at, updated_at, request_id)"
	    " VALUES (?, ?, ?, ?, ?, ?6, ?6, ?7)"
	    " ON CONFLICT (integration_id, kind, key) WHERE state = 'ready'"
	    " DO UPDATE SET payload = excluded.payload,"
	    " run_at = least(job.run_at, excluded.run_at),"
	    " updated_at = excluded.updated_at,"
	    " request_id = coalesce(job.request_id, excluded.request_id)";
	struct db_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_text(st, 2, kind);
	db_bind_text(st, 3, key);
	db_bind_text(st, 4, payload != NULL ? payload : "{}");
	db_bind_double(st, 5, run_at);
	db_bind_double(st, 6, util_now());
	db_bind_text(st, 7, log_request());
	if ((rc = store_exec_stmt(s, st, "job enqueue")) == 0 &&
	    run_at <= util_now())
		db_wake_note(s->conn, kind);
	return rc;
}

int
store_job_lease(struct store *s, double now, double lease_s,
    const char *kind, int only, struct store_job *j)
{
	/*
	 * An expired lease means its holder died: the job is taken again.
	 * Each arm reads the first row of job_due in order (its entries
	 * sort by run_at, then id), so a long queue costs no sort; one OR
	 * over both would collect and sort every due job.  In SQLite the
	 * UPDATE ... RETURNING holds the write lock, so two processes never
	 * lease the same job.  PostgreSQL lets writers run together: each
	 * arm locks the row it picks and passes over rows another
	 * transaction holds (FOR UPDATE SKIP LOCKED, which UNION does not
	 * take, hence the CTEs), and a row leased meanwhile is read again
	 * as it is now, so a second lessee finds it taken.
	 */
#define LEASE_SET "UPDATE job SET state = 'leased', lease_until = ?2," \
	" attempts = attempts + 1, updated_at = ?1"
	/* PostgreSQL must be told what ?3 is where it is first seen. */
#define LEASE_ARM(due, kind) "SELECT id, run_at FROM job WHERE " due \
	" AND (" kind " IS NULL OR (kind = ?3) = ?4) ORDER BY run_at, id LIMIT 1"
#define LEASE_READY	"state = 'ready' AND run_at <= ?1"
#define LEASE_LAPSED	"state = 'leased' AND lease_until < ?1"
#define LEASE_RETURNING " RETURNING id, integration_id, kind, key," \
	" payload, attempts, last_error, run_at, state, request_id, created_at"
	static const char lite[] = LEASE_SET " WHERE id = (SELECT id FROM"
	    " (SELECT * FROM (" LEASE_ARM(LEASE_READY, "?3") ") UNION ALL"
	    " SELECT * FROM (" LEASE_ARM(LEASE_LAPSED, "?3") "))"
	    " ORDER BY run_at, id LIMIT 1)" LEASE_RETURNING;
	static const char pg[] = "WITH ready AS ("
	    LEASE_ARM(LEASE_READY, "CAST(?3 AS TEXT)") " FOR UPDATE SKIP LOCKED),"
	    " lapsed AS (" LEASE_ARM(LEASE_LAPSED, "CAST(?3 AS TEXT)")
	    " FOR UPDATE SKIP LOCKED) " LEASE_SET " WHERE id = (SELECT id FROM"
	    " (SELECT * FROM ready UNION ALL SELECT * FROM lapsed) due"
	    " ORDER BY run_at, id LIMIT 1)" LEASE_RETURNING;
	struct db_stmt	*st;
	int		 rc, err = 0;

	memset(j, 0, sizeof(*j));
	if ((st = store_stmt(s, STORE_SQL(s, lite, pg))) == NULL)
		return -1;
	db_bind_double(st, 1, now);
	db_bind_double(st, 2, j->lease_until = now + lease_s);
	db_bind_text(st, 3, kind);
	db_bind_int64(st, 4, only != 0);
	if ((rc = db_step(st)) == DB_ROW) {
		j->id = db_column_int64(st, 0);
		store_text_fixed(st, 1, j->integration_id,
		    sizeof(j->integration_id));
		err |= store_text(st, 2, &j->kind);
		err |= store_text(st, 3, &j->key);
		err |= store_text(st, 4, &j->payload);
		j->attempts = db_column_int64(st, 5);
		err |= store_text(st, 6, &j->last_error);
		j->run_at = db_column_double(st, 7);
		err |= store_text(st, 8, &j->state);
		err |= store_text(st, 9, &j->request_id);
		j->created_at = db_column_double(st, 10);
		rc = db_step(st);
	}
	db_reset(st);
	if (rc != DB_DONE) {
		store_job_release(j);
		return store_fail(s, "job lease");
	}
	if (j->id == 0) {
		j->lease_until = 0;
		return STORE_NOTFOUND;
	}
	if (err) {
		store_job_release(j);
		return -1;
	}
	return 0;
}

/*
 * Runs one of the id-keyed job updates; ?2 is a time, ?3 an error, ?4
 * the lease it settles.
 */
static int
job_update(struct store *s, const char *sql, long long id, double t,
    const char *error, double lease, const char *what)
{
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_int64(st, 1, id);
	if (db_param_count(st) >= 2)
		db_bind_double(st, 2, t);
	if (db_param_count(st) >= 3)
		db_bind_text(st, 3, error);
	if (db_param_count(st) >= 4)
		db_bind_double(st, 4, lease);
	return store_exec_stmt(s, st, what);
}

/*
 * A holder settles its job only while the lease is still its own: once
 * it ran out another holder may have taken the job over, and a settle by
 * id would free or end the job that holder runs (model/README.md, bug 2).
 */
#define HELD		" WHERE id = ?1 AND lease_until = ?4"

/* Settles j with sql: STORE_NOTFOUND, logged, when the lease is gone. */
static int
settle(struct store *s, const char *sql, const struct store_job *j,
    double t, const char *error, const char *what)
{
	int	 rc;

	if ((rc = job_update(s, sql, j->id, t, error, j->lease_until,
	    what)) != 0)
		return rc;
	if (db_changes(s->conn) > 0)
		return 0;
	log_warn("job %lld: lease taken over, %s not applied", j->id, what);
	return STORE_NOTFOUND;
}

static const char job_delete[] = "DELETE FROM job" HELD;

int
store_job_done(struct store *s, const struct store_job *j)
{
	return settle(s, job_delete, j, 0, NULL, "job done");
}

/*
 * The condition under which a job may become ready: no other job of its
 * key is (the coalescing index allows one).  Checked in the statement,
 * where SQLite's UPDATE OR IGNORE would have let the index refuse it:
 * PostgreSQL has no such clause.
 */
#define NO_READY_TWIN " AND NOT EXISTS (SELECT 1 FROM job r" \
	" WHERE r.integration_id = job.integration_id AND r.kind = job.kind" \
	" AND r.key = job.key AND r.state = 'ready' AND r.id != job.id)"

/*
 * Makes a leased job ready again at run_at with sql.  If a newer event was
 * coalesced into a fresh ready job meanwhile, this one is redundant: it
 * stays leased and is deleted, and the fresh job carries on.  (On
 * PostgreSQL the fresh job can come between the check and the update:
 * then the index refuses the update, with the same outcome.)
 */
static int
reschedule(struct store *s, const char *sql, const struct store_job *j,
    double run_at, const char *error)
{
	int	 rc;

	rc = job_update(s, sql, j->id, run_at, error, j->lease_until,
	    "job retry");
	if (rc == 0 && db_changes(s->conn) > 0)
		return 0;
	if (rc != 0 && rc != STORE_EXISTS)
		return rc;
	return settle(s, job_delete, j, run_at, error, "job retry");
}

int
store_job_retry(struct store *s, const struct store_job *j, double run_at,
    const char *error)
{
	static const char sql[] = "UPDATE job SET state = 'ready',"
	    " run_at = ?2, last_error = ?3, lease_until = NULL,"
	    " updated_at = ?2" HELD NO_READY_TWIN;

	return reschedule(s, sql, j, run_at, error);
}

int
store_job_wait(struct store *s, const struct store_job *j, double run_at,
    const char *why)
{
	static const char sql[] = "UPDATE job SET state = 'ready',"
	    " run_at = ?2, last_error = ?3, lease_until = NULL,"
	    " attempts = greatest(attempts - 1, 0), updated_at = ?2"
	    HELD NO_READY_TWIN;

	return reschedule(s, sql, j, run_at, why);
}

int
store_job_bury(struct store *s, const struct store_job *j, const char *error)
{
	static const char sql[] = "UPDATE job SET state = 'dead',"
	    " last_error = ?3, lease_until = NULL, updated_at = ?2" HELD;

	return settle(s, sql, j, util_now(), error, "job bury");
}

int
store_job_revive(struct store *s, long long id, double now)
{
	static const char sql[] = "UPDATE job SET state = 'ready',"
	    " attempts = 0, run_at = ?2, updated_at = ?2"
	    " WHERE id = ?1 AND state = 'dead'" NO_READY_TWIN;
	int	 rc;

	if ((rc = job_update(s, sql, id, now, NULL, 0, "job revive")) != 0)
		return rc == STORE_EXISTS ? STORE_NOTFOUND : rc;
	return db_changes(s->conn) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_job_cancel(struct store *s, const char *iid, const char *kind,
    const char *key)
{
	static const char sql[] = "DELETE FROM job WHERE integration_id = ?"
	    " AND kind = ? AND key = ? AND state != 'leased'";
	struct db_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	db_bind_text(st, 1, iid);
	db_bind_text(st, 2, kind);
	db_bind_text(st, 3, key);
	return store_exec_stmt(s, st, "job cancel");
}

int
store_wake_wait(struct store *s, const char *kind, int only, long timeout_ms)
{
	int	 rc = db_wake_wait(s->conn, kind, only, (int)timeout_ms);

	if (rc == -1 && !s->deaf)
		log_warn("store: the worker hears no wake-ups and polls: %s",
		    db_errmsg(s->conn));
	else if (rc != -1 && s->deaf)
		log_info("store: the worker hears wake-ups again");
	s->deaf = rc == -1;
	return rc == 1;
}

void
store_job_release(struct store_job *j)
{
	free(j->kind);
	free(j->key);
	free(j->payload);
	free(j->last_error);
	free(j->state);
	free(j->request_id);
	memset(j, 0, sizeof(*j));
}
