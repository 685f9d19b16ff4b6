#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "app/metrics.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/util.h"
#include "flows/ctx.h"
#include "flows/queue.h"
#include "notify/notify.h"

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
dispatch(struct app *a, const struct queue_kind *k, const struct store_job *j,
    struct queue_result *r)
{
	struct ctx		 c;
	int			 rc;

	if (k == NULL) {
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
	    c.in.auth_failed != NULL && (c.pb.up.status != 0 ||
	    c.tr.up.status != 0))
		store_integration_set_auth_failed(&a->store, c.in.id, NULL);
	ctx_close(&c);
}

/* Applies the result: done, retry later, or dead after the last attempt. */
static int
max_attempts(struct app *a, const struct queue_kind *k)
{
	return k != NULL && k->max_attempts > 0 ? k->max_attempts :
	    (int)a->conf.job_max_attempts;
}

/* A job of the sync gave up: the integration's channels hear of it. */
static void
tell_dead(struct app *a, const struct queue_kind *k, const struct store_job *j,
    const char *error)
{
	struct store_integration in;
	struct notify_event ev;

	if (k != NULL && !k->tell_dead)
		return;
	if (store_integration_get(&a->store, j->integration_id, &in) != 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.event = "sync.failed";
	ev.integration_id = in.id;
	ev.integration_name = in.name;
	ev.feature_id = strcmp(j->kind, "issue_event") == 0 ? NULL : j->key;
	ev.actor = "pbsync";
	ev.detail = error;
	notify_emit(a, &ev);
	store_integration_release(&in);
}

static void
settle(struct app *a, const struct queue_kind *k, const struct store_job *j,
    const struct queue_result *r)
{
	double	 when;

	switch (r->status) {
	case QUEUE_DONE:
		store_job_done(&a->store, j);
		log_debug("job %lld (%s %s) done", j->id, j->kind, j->key);
		metrics_job(j->kind, "done");
		return;
	case QUEUE_WAIT:
		metrics_job(j->kind, "wait");
		/*
		 * A lock left by a killed worker lasts a lease: waiting it
		 * out must not use up the attempts and bury the job.
		 */
		store_job_wait(&a->store, j, util_now() + r->retry_in,
		    r->error);
		return;
	case QUEUE_RETRY:
		if (j->attempts < max_attempts(a, k)) {
			when = r->retry_in >= 0 ? (double)r->retry_in :
			    queue_backoff(j->attempts);
			log_info("job %lld (%s %s) retry in %.1fs: %s", j->id,
			    j->kind, j->key, when, r->error);
			metrics_job(j->kind, "retry");
			store_job_retry(&a->store, j, util_now() + when,
			    r->error);
			return;
		}
		/* FALLTHROUGH */
	case QUEUE_DEAD:
		log_warn("job %lld (%s %s) dead after %lld attempts: %s",
		    j->id, j->kind, j->key, j->attempts, r->error);
		metrics_job(j->kind, "dead");
		/* Taken over after the lease ran out: the new holder decides. */
		if (store_job_bury(&a->store, j, r->error) != STORE_NOTFOUND)
			tell_dead(a, k, j, r->error);
		return;
	}
}

int
queue_run_one(struct app *a, const struct queue_kind *kinds,
    const struct queue_lane *lane)
{
	const struct queue_kind	*k;
	struct store_job	 j;
	struct queue_result	 r;
	char			 outer[LOG_ID_MAX + 1] = "", id[LOG_ID_MAX + 1];
	int			 rc;

	if (app_store(a) == -1)
		return -1;
	rc = store_job_lease(&a->store, util_now(),
	    (double)a->conf.job_lease_s, lane != NULL ? lane->kind : NULL,
	    lane != NULL && lane->only, &j);
	if (rc == STORE_NOTFOUND) {
		metrics_flush(a, 0);	/* an idle worker's counts */
		return 0;
	}
	if (rc != 0)
		return -1;
	/*
	 * The job's lines carry the id of the request that queued it (a
	 * job of its own, a fresh one), and so do the jobs it queues.
	 */
	if (log_request() != NULL)
		snprintf(outer, sizeof(outer), "%s", log_request());
	if (j.request_id != NULL && log_id_ok(j.request_id))
		snprintf(id, sizeof(id), "%s", j.request_id);
	else
		crypto_random_id(id);
	log_set_request(id);
	log_debug("job %lld (%s %s) started, attempt %lld", j.id, j.kind,
	    j.key, j.attempts);
	memset(&r, 0, sizeof(r));
	r.status = QUEUE_DONE;
	r.retry_in = -1;
	k = lookup(kinds, j.kind);
	if (j.attempts > max_attempts(a, k)) {
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
		dispatch(a, k, &j, &r);
		proc_cpu_budget(0);
		http_set_deadline(0);
	}
	settle(a, k, &j, &r);
	store_job_release(&j);
	log_set_request(outer[0] != '\0' ? outer : NULL);
	metrics_flush(a, 0);
	return 1;
}

int
queue_run(struct app *a, const struct queue_kind *kinds,
    const struct queue_lane *lane, long budget_ms)
{
	int64_t	 until = util_mono_ms() + budget_ms;
	int	 n = 0, rc;

	while (util_mono_ms() < until && (rc = queue_run_one(a, kinds, lane)) == 1)
		n++;
	return n;
}
