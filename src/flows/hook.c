#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "flows/hook.h"
#include "flows/inbound.h"
#include "trackers/gitlab.h"
#include "upstream/pb.h"
#include "web/health.h"

#define PB_PREFIX	"/webhooks/productboard/"
#define GL_PREFIX	"/webhooks/gittab/"
#define MAX_KEY		128

static int
duplicate(const char *source, const char *dedupe, int ok)
{
	log_info("duplicate %s delivery %s ignored", source, dedupe);
	return ok;
}

/*
 * Enqueues a job for a delivery in one transaction with its dedupe row.
 * Returns the status to answer: ok on success (or duplicate), 503 when the
 * database is locked or broken, so the sender retries.  A key already
 * recorded is answered from a read, without taking the write lock: with
 * synchronous=FULL a row other connections can see is on disk.
 */
static int
persist(struct app *a, const char *iid, const char *source,
    const char *dedupe, const char *kind, const char *key,
    const char *payload, int ok)
{
	struct store	*s = &a->store;
	double		 now = util_now();
	int		 rc;

	if (dedupe != NULL &&
	    (rc = store_delivery_known(s, iid, source, dedupe)) != 0)
		return rc == -1 ? 503 : duplicate(source, dedupe, ok);
	if (store_begin(s) == -1)
		return 503;
	if (dedupe != NULL) {
		rc = store_delivery_seen(s, iid, source, dedupe, now);
		if (rc == STORE_EXISTS) {
			store_rollback(s);
			return duplicate(source, dedupe, ok);
		}
		if (rc != 0)
			goto fail;
	}
	if (store_job_enqueue(s, iid, kind, key, payload, now) != 0)
		goto fail;
	if (store_commit(s) == -1)
		return 503;
	return ok;
fail:
	store_rollback(s);
	return 503;
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
	if (inbound_body(rq, rs, (size_t)a->conf.max_body, rd) == -1)
		goto out;
	if (pb_event_decode(&ev, buf_str(&rq->body), rq->body.len) == -1) {
		inbound_refuse(rq, rs, ev.error);
		goto out;
	}
	if (ev.kind == PB_EVENT_OTHER) {
		log_debug("ignored productboard event %s", ev.type);
		resp_empty(rs, 204);
		goto out;
	}
	answer(rs, persist(a, in.id, "productboard", NULL,
	    ev.kind == PB_EVENT_UPDATED ? "sync" : "feature_deleted",
	    ev.feature_id, NULL, 204));
out:
	store_integration_release(&in);
}

void
hook_gl_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	struct store_integration in;
	struct gitlab_hook h;
	const char	*event, *dedupe;
	char		 key[32], payload[160];

	if (health_handle(a, rq, rs))
		return;
	if (inbound_auth(a, rq, rs, GL_PREFIX, INBOUND_GL_HOOK, &in) == -1)
		return;
	event = req_param(rq, "HTTP_X_GITLAB_EVENT");
	if (event == NULL || (strcmp(event, "Issue Hook") != 0 &&
	    strcmp(event, "Confidential Issue Hook") != 0)) {
		/* Accepted so GitLab does not count it as a failure. */
		log_debug("ignored gitlab event %s", event ? event : "(none)");
		resp_empty(rs, 204);
		goto out;
	}
	if (inbound_body(rq, rs, (size_t)a->conf.gitlab_max_body, rd) == -1)
		goto out;
	if (gitlab_hook_decode(&h, buf_str(&rq->body), rq->body.len) == -1) {
		inbound_refuse(rq, rs, h.error);
		goto out;
	}
	if (!h.is_issue) {
		resp_empty(rs, 204);
		goto out;
	}
	/* The job payload: the issue's coordinates as GitLab sent them. */
	snprintf(key, sizeof(key), "%lld", h.id);
	snprintf(payload, sizeof(payload), "{\"id\":%lld,\"iid\":%lld,"
	    "\"project_id\":%lld,\"moved_to_id\":%lld}", h.id, h.iid,
	    h.project_id, h.moved_to_id);
	dedupe = req_param(rq, "HTTP_IDEMPOTENCY_KEY");
	if (dedupe == NULL || *dedupe == '\0')
		dedupe = req_param(rq, "HTTP_X_GITLAB_EVENT_UUID");
	if (dedupe != NULL && (strlen(dedupe) > MAX_KEY ||
	    !util_text_ok(dedupe, strlen(dedupe))))
		dedupe = NULL;
	answer(rs, persist(a, in.id, "gitlab", dedupe, "issue_event", key,
	    payload, 200));
out:
	store_integration_release(&in);
}
