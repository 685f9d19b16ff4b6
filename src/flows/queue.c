#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "base/proc.h"
#include "base/util.h"
#include "flows/ctx.h"
#include "flows/queue.h"

#define BACKOFF_BASE_S	2.0
#define BACKOFF_CAP_S	3600.0

double
queue_backoff(long long attempts)
{
	double	 d = BACKOFF_BASE_S;
	double	 jitter;

	while (attempts-- > 0 && d < BACKOFF_CAP_S)
		d *= 2;
	if (d > BACKOFF_CAP_S)
		d = BACKOFF_CAP_S;
	/* Full jitter in [d/2, d] keeps retries of many jobs apart. */
	jitter = (double)randombytes_uniform(1000) / 1000.0;
	return d / 2 + jitter * d / 2;
}

void
queue_fail(struct queue_result *r, enum http_err e, long retry_after,
    const char *error)
{
	r->status = http_retryable(e) || e == HTTP_EINTERNAL ? QUEUE_RETRY :
	    QUEUE_DEAD;
	r->retry_in = e == HTTP_ERATE && retry_after >= 0 ? retry_after : -1;
	snprintf(r->error, sizeof(r->error), "%s", error != NULL && *error ?
	    error : http_strerror(e));
}

/* The handler of a kind, or NULL. */
static const struct queue_kind *
lookup(const struct queue_kind *kinds, const char *kind)
{
	for (; kinds->kind != NULL; kinds++)
		if (strcmp(kinds->kind, kind) == 0)
			return kinds;
	return NULL;
}

/* Runs the job's work for its integration. */
static void
dispatch(struct app *a, const struct queue_kind *kinds,
    const struct store_job *j, struct queue_result *r)
{
	const struct queue_kind	*k;
	struct ctx		 c;
	int			 rc;

	if ((k = lookup(kinds, j->kind)) == NULL) {
		queue_fail(r, HTTP_ECLIENT, -1, "unknown job kind");
		return;
	}

	if ((rc = ctx_load(&c, a, j->integration_id)) != 0) {
		if (rc == STORE_NOTFOUND)
			return;		/* integration deleted: drop */
		queue_fail(r, HTTP_EINTERNAL, -1,
		    "cannot load the integration or decrypt its tokens");
		return;
	}
	k->run(&c, j, r);
	/*
	 * A revoked token fails every job the same way: the job dies at once
	 * (a 401 is not retryable, so no retry storm) and the integration is
	 * flagged for the admin.
	 */
	if (ctx_auth_check(&c) == 0 && r->status == QUEUE_DONE &&
	    c.in.auth_failed != NULL)
		store_integration_set_auth_failed(&a->store, c.in.id, NULL);
	ctx_close(&c);
}

/* Applies the result: done, retry later, or dead after the last attempt. */
static void
settle(struct app *a, const struct store_job *j, const struct queue_result *r)
{
	double	 when;

	switch (r->status) {
	case QUEUE_DONE:
		store_job_done(&a->store, j->id);
		return;
	case QUEUE_WAIT:
		/*
		 * A lock left by a killed worker lasts a lease: waiting it
		 * out must not use up the attempts and bury the job.
		 */
		store_job_wait(&a->store, j->id, util_now() + r->retry_in,
		    r->error);
		return;
	case QUEUE_RETRY:
		if (j->attempts < a->conf.job_max_attempts) {
			when = r->retry_in >= 0 ? (double)r->retry_in :
			    queue_backoff(j->attempts);
			log_info("job %lld (%s %s) retry in %.1fs: %s", j->id,
			    j->kind, j->key, when, r->error);
			store_job_retry(&a->store, j->id, util_now() + when,
			    r->error);
			return;
		}
		/* FALLTHROUGH */
	case QUEUE_DEAD:
		log_warn("job %lld (%s %s) dead after %lld attempts: %s",
		    j->id, j->kind, j->key, j->attempts, r->error);
		store_job_bury(&a->store, j->id, r->error);
		return;
	}
}

int
queue_run_one(struct app *a, const struct queue_kind *kinds)
{
	struct store_job	 j;
	struct queue_result	 r;
	int			 rc;

	if (app_store(a) == -1)
		return -1;
	rc = store_job_lease(&a->store, util_now(),
	    (double)a->conf.job_lease_s, &j);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.status = QUEUE_DONE;
	r.retry_in = -1;
	if (j.attempts > a->conf.job_max_attempts) {
		/*
		 * Each lease counts an attempt, so every process that held
		 * the job before died on it: do not feed it another.
		 */
		r.status = QUEUE_DEAD;
		snprintf(r.error, sizeof(r.error), "the process running it "
		    "stopped before it finished, %lld times (a crash, or "
		    "over cpu_budget_s)", j.attempts - 1);
	} else {
		/* The job's calls end with its lease, its CPU with the budget. */
		http_set_deadline(util_mono_ms() + a->conf.job_lease_s * 1000);
		proc_cpu_budget(a->conf.cpu_budget_s);
		dispatch(a, kinds, &j, &r);
		proc_cpu_budget(0);
		http_set_deadline(0);
	}
	settle(a, &j, &r);
	store_job_release(&j);
	return 1;
}

int
queue_run(struct app *a, const struct queue_kind *kinds, long budget_ms)
{
	int64_t	 until = util_mono_ms() + budget_ms;
	int	 n = 0, rc;

	while (util_mono_ms() < until && (rc = queue_run_one(a, kinds)) == 1)
		n++;
	return n;
}
