#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app/metrics.h"
#include "base/log.h"
#include "base/util.h"
#include "flows/hook.h"
#include "flows/inbound.h"
#include "trackers/tracker.h"
#include "upstream/pb.h"
#include "web/health.h"

#define PB_PREFIX	"/webhooks/productboard/"
#define TR_PREFIX	"/webhooks/gittab/"

static int
duplicate(const char *who, const char *dedupe, int ok)
{
	log_info("duplicate %s delivery %s ignored", who, dedupe);
	metrics_delivery(who, "duplicate");
	return ok;
}

/* A delivery that will not be retried into a job: counted, then answered. */
static int
unavailable(const char *who)
{
	metrics_delivery(who, "unavailable");
	return 503;
}

struct delivery {
	const char	*iid, *source, *dedupe, *kind, *key, *payload;
	double		 now;
};

/*
 * A delivery's rows: its dedupe key, then its job.  STORE_EXISTS when the
 * key was recorded before, by another delivery or by this one in a run
 * whose commit took effect but whose answer was lost.
 */
static int
delivery_rows(struct store *s, void *arg)
{
	const struct delivery *d = arg;
	int		 rc;

	if (d->dedupe != NULL && (rc = store_delivery_seen(s, d->iid,
	    d->source, d->dedupe, d->now)) != 0)
		return rc == STORE_EXISTS ? STORE_EXISTS : -1;
	if (store_job_enqueue(s, d->iid, d->kind, d->key, d->payload,
	    d->now) != 0 ||
	    store_activity_add(s, d->iid, STORE_ACT_DELIVERY, d->now) != 0)
		return -1;
	return 0;
}

/*
 * Enqueues a job for a delivery in one transaction with its dedupe row
 * and its count on the activity dashboard.
 * Returns the status to answer: ok on success (or duplicate), 503 when the
 * database is locked or broken, so the sender retries.  A key already
 * recorded is answered from a read, without taking the write lock: with
 * synchronous=FULL a row other connections can see is on disk.
 */
static int
persist(struct app *a, const char *iid, const char *source, const char *who,
    const char *dedupe, const char *kind, const char *key,
    const char *payload, int ok)
{
	struct delivery	 d = { iid, source, dedupe, kind, key, payload,
			    util_now() };
	struct store	*s = &a->store;
	int		 rc;

	if (dedupe != NULL &&
	    (rc = store_delivery_known(s, iid, source, dedupe)) != 0)
		return rc == -1 ? unavailable(who) : duplicate(who, dedupe, ok);
	if ((rc = store_tx(s, delivery_rows, &d)) == STORE_EXISTS)
		return duplicate(who, dedupe, ok);
	if (rc != 0)
		return unavailable(who);
	log_info("%s delivery queued: %s job for %s", who, kind, key);
	metrics_delivery(who, "queued");
	return ok;
}

/* Refuses a delivery whose body is not one we can take. */
static void
invalid(const struct req *rq, struct resp *rs, const char *who,
    const char *why)
{
	metrics_delivery(who, "invalid");
	inbound_refuse(rq, rs, why);
}

static void
ignored(struct resp *rs, const char *who)
{
	metrics_delivery(who, "ignored");
	resp_empty(rs, 204);
}

static void
answer(struct resp *rs, int status)
{
	if (status >= 500)
		resp_unavailable(rs, "temporarily unavailable, retry");
	else
		resp_empty(rs, status);
}

void
hook_pb_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	struct store_integration in;
	struct pb_event	 ev;

	if (health_handle(a, rq, rs))
		return;
	if (inbound_auth(a, rq, rs, PB_PREFIX, INBOUND_PB_HOOK, &in) == -1)
		return;
	if (rq->method == REQ_GET || rq->method == REQ_HEAD) {
		inbound_probe(rq, rs);
		goto out;
	}
	if (inbound_body(rq, rs, (size_t)a->conf.max_body, rd) == -1) {
		metrics_delivery("productboard", "invalid");
		goto out;
	}
	if (pb_event_decode(&ev, buf_str(&rq->body), rq->body.len) == -1) {
		invalid(rq, rs, "productboard", ev.error);
		goto out;
	}
	if (ev.kind == PB_EVENT_OTHER) {
		log_debug("ignored productboard event %s", ev.type);
		ignored(rs, "productboard");
		goto out;
	}
	answer(rs, persist(a, in.id, "productboard", "productboard", NULL,
	    ev.kind == PB_EVENT_UPDATED ? "sync" : "feature_deleted",
	    ev.feature_id, NULL, 204));
out:
	store_integration_release(&in);
}

static const char *
param_of(const void *rq, const char *name)
{
	return req_param(rq, name);
}

void
hook_tracker_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	struct store_integration in;
	const struct tracker_ops *ops;
	struct tracker_hook_in hin = { param_of, NULL, NULL, 0 };
	struct tracker_delivery d;
	cJSON		*p = NULL;
	char		*payload = NULL;
	int		 hmac;

	if (health_handle(a, rq, rs))
		return;
	if (inbound_auth(a, rq, rs, TR_PREFIX, INBOUND_TRACKER_HOOK, &in) == -1)
		return;
	ops = tracker_find(in.tracker_kind);	/* inbound_auth knew it */
	hin.arg = rq;
	hmac = ops->auth == TRACKER_AUTH_HMAC_SHA256;
	/* A signed body is checked before anything else is believed. */
	if (hmac && inbound_signed(a, rq, rs, &in,
	    (size_t)a->conf.tracker_max_body, rd) == -1)
		goto out;
	if (!ops->relevant(&hin)) {
		/* Accepted, so the tracker does not count it as a failure. */
		log_debug("ignored %s event", ops->kind);
		ignored(rs, ops->kind);
		goto out;
	}
	if (!hmac && inbound_body(rq, rs, (size_t)a->conf.tracker_max_body,
	    rd) == -1) {
		metrics_delivery(ops->kind, "invalid");
		goto out;
	}
	hin.body = buf_str(&rq->body);
	hin.len = rq->body.len;
	if (ops->decode(&hin, &d) == -1) {
		invalid(rq, rs, ops->kind, d.error);
		goto out;
	}
	if (!d.relevant) {
		ignored(rs, ops->kind);
		goto out;
	}
	/* The job re-reads the issue: the payload only says what came. */
	if ((p = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(p, "id", d.id) == NULL ||
	    (d.moved_to[0] != '\0' &&
	    cJSON_AddStringToObject(p, "moved_to", d.moved_to) == NULL) ||
	    (d.deleted && cJSON_AddTrueToObject(p, "deleted") == NULL) ||
	    (payload = cJSON_PrintUnformatted(p)) == NULL) {
		unavailable(ops->kind);
		resp_unavailable(rs, "out of memory");
		goto out;
	}
	answer(rs, persist(a, in.id, "tracker", ops->kind, d.dedupe[0] !=
	    '\0' ? d.dedupe : NULL, "issue_event", d.id, payload, 200));
out:
	cJSON_Delete(p);
	cJSON_free(payload);
	store_integration_release(&in);
}
