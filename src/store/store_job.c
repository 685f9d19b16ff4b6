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
	    " run_at = min(run_at, excluded.run_at),"
	    " updated_at = excluded.updated_at,"
	    " request_id = coalesce(request_id, excluded.request_id)";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, iid);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, key);
	store_bind_text(st, 4, payload != NULL ? payload : "{}");
	sqlite3_bind_double(st, 5, run_at);
	sqlite3_bind_double(st, 6, util_now());
	store_bind_text(st, 7, log_request());
	return store_exec_stmt(s, st, "job enqueue");
}

int
store_job_lease(struct store *s, double now, double lease_s,
    const char *kind, int only, struct store_job *j)
{
	/*
	 * An expired lease means its holder died: the job is taken again.
	 * The UPDATE ... RETURNING is atomic, so two processes never lease
	 * the same job.  Each arm reads the first row of job_due in order
	 * (its entries sort by run_at, then id), so a long queue costs no
	 * sort; one OR over both would collect and sort every due job.
	 */
	static const char sql[] = "UPDATE job SET state = 'leased',"
	    " lease_until = ?2, attempts = attempts + 1, updated_at = ?1"
	    " WHERE id = (SELECT id FROM"
	    " (SELECT * FROM (SELECT id, run_at FROM job"
	    " WHERE state = 'ready' AND run_at <= ?1"
	    " AND (?3 IS NULL OR (kind = ?3) = ?4) ORDER BY run_at, id"
	    " LIMIT 1) UNION ALL"
	    " SELECT * FROM (SELECT id, run_at FROM job"
	    " WHERE state = 'leased' AND lease_until < ?1"
	    " AND (?3 IS NULL OR (kind = ?3) = ?4) ORDER BY run_at, id"
	    " LIMIT 1)) ORDER BY run_at, id LIMIT 1)"
	    " RETURNING id, integration_id, kind, key, payload, attempts,"
	    " last_error, run_at, state, request_id, created_at";
	sqlite3_stmt	*st;
	int		 rc, err = 0;

	memset(j, 0, sizeof(*j));
	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_double(st, 1, now);
	sqlite3_bind_double(st, 2, now + lease_s);
	store_bind_text(st, 3, kind);
	sqlite3_bind_int(st, 4, only != 0);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		j->id = sqlite3_column_int64(st, 0);
		store_text_fixed(st, 1, j->integration_id,
		    sizeof(j->integration_id));
		err |= store_text(st, 2, &j->kind);
		err |= store_text(st, 3, &j->key);
		err |= store_text(st, 4, &j->payload);
		j->attempts = sqlite3_column_int64(st, 5);
		err |= store_text(st, 6, &j->last_error);
		j->run_at = sqlite3_column_double(st, 7);
		err |= store_text(st, 8, &j->state);
		err |= store_text(st, 9, &j->request_id);
		j->created_at = sqlite3_column_double(st, 10);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_job_release(j);
		return store_fail(s, "job lease");
	}
	if (j->id == 0)
		return STORE_NOTFOUND;
	if (err) {
		store_job_release(j);
		return -1;
	}
	return 0;
}

/* Runs one of the id-keyed job updates; ?2 is a time, ?3 an error. */
static int
job_update(struct store *s, const char *sql, long long id, double t,
    const char *error, const char *what)
{
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_double(st, 2, t);
	if (sqlite3_bind_parameter_count(st) >= 3)
		store_bind_text(st, 3, error);
	return store_exec_stmt(s, st, what);
}

int
store_job_done(struct store *s, long long id)
{
	static const char sql[] = "DELETE FROM job WHERE id = ?1";

	return job_update(s, sql, id, 0, NULL, "job done");
}

/*
 * Makes a leased job ready again at run_at with sql.  If a newer event was
 * coalesced into a fresh ready job meanwhile, this one is redundant: the
 * unique index refuses the update and the fresh job carries on.
 */
static int
reschedule(struct store *s, const char *sql, long long id, double run_at,
    const char *error)
{
	static const char drop[] = "DELETE FROM job WHERE id = ?1"
	    " AND state = 'leased'";
	int	 rc;

	if ((rc = job_update(s, sql, id, run_at, error, "job retry")) != 0)
		return rc;
	return job_update(s, drop, id, run_at, error, "job retry drop");
}

int
store_job_retry(struct store *s, long long id, double run_at,
    const char *error)
{
	static const char sql[] = "UPDATE OR IGNORE job SET state = 'ready',"
	    " run_at = ?2, last_error = ?3, lease_until = NULL,"
	    " updated_at = ?2 WHERE id = ?1";

	return reschedule(s, sql, id, run_at, error);
}

int
store_job_wait(struct store *s, long long id, double run_at, const char *why)
{
	static const char sql[] = "UPDATE OR IGNORE job SET state = 'ready',"
	    " run_at = ?2, last_error = ?3, lease_until = NULL,"
	    " attempts = max(attempts - 1, 0), updated_at = ?2 WHERE id = ?1";

	return reschedule(s, sql, id, run_at, why);
}

int
store_job_bury(struct store *s, long long id, const char *error)
{
	static const char sql[] = "UPDATE job SET state = 'dead',"
	    " last_error = ?3, lease_until = NULL, updated_at = ?2"
	    " WHERE id = ?1";

	return job_update(s, sql, id, util_now(), error, "job bury");
}

int
store_job_revive(struct store *s, long long id, double now)
{
	static const char sql[] = "UPDATE OR IGNORE job SET state = 'ready',"
	    " attempts = 0, run_at = ?2, updated_at = ?2"
	    " WHERE id = ?1 AND state = 'dead'";
	int	 rc;

	if ((rc = job_update(s, sql, id, now, NULL, "job revive")) != 0)
		return rc;
	return sqlite3_changes(s->db) == 1 ? 0 : STORE_NOTFOUND;
}

int
store_job_cancel(struct store *s, const char *iid, const char *kind,
    const char *key)
{
	static const char sql[] = "DELETE FROM job WHERE integration_id = ?"
	    " AND kind = ? AND key = ? AND state != 'leased'";
	sqlite3_stmt	*st;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, iid);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, key);
	return store_exec_stmt(s, st, "job cancel");
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
