#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "health.h"
#include "hook.h"
#include "inbound.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define PB_PREFIX	"/webhooks/productboard/"
#define GL_PREFIX	"/webhooks/gittab/"
#define MAX_ID		64
#define MAX_KEY		128

/*
 * Enqueues a job for a delivery in one transaction with its dedupe row.
 * Returns the status to answer: ok on success (or duplicate), 503 when the
 * database is locked or broken, so the sender retries.
 */
static int
persist(struct app *a, const char *iid, const char *source,
    const char *dedupe, const char *kind, const char *key,
    const char *payload, int ok)
{
	struct store	*s = &a->store;
	double		 now = util_now();
	int		 rc;

	if (store_begin(s) == -1)
		return 503;
	if (dedupe != NULL) {
		rc = store_delivery_seen(s, iid, source, dedupe, now);
		if (rc == STORE_EXISTS) {
			store_rollback(s);
			log_info("duplicate %s delivery %s ignored", source,
			    dedupe);
			return ok;
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
		resp_error(rs, status, "temporarily unavailable, retry");
	else
		resp_empty(rs, status);
}

void
hook_pb_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	struct store_integration in;
	cJSON		*j = NULL;
	const char	*event, *fid, *kind;

	if (health_handle(a, rq, rs))
		return;
	if (inbound_auth(a, rq, rs, PB_PREFIX, INBOUND_PB_HOOK, &in) == -1)
		return;
	if (rq->method == REQ_GET || rq->method == REQ_HEAD) {
		inbound_probe(rq, rs);
		goto out;
	}
	if ((j = inbound_json(rq, rs, (size_t)a->conf.max_body, rd)) == NULL)
		goto out;
	if ((event = json_str(j, "data.eventType", 64)) == NULL) {
		resp_error(rs, 400, "data.eventType missing");
		goto out;
	}
	if (strcmp(event, "feature.updated") == 0)
		kind = "sync";
	else if (strcmp(event, "feature.deleted") == 0)
		kind = "feature_deleted";
	else {
		log_debug("ignored productboard event %s", event);
		resp_empty(rs, 204);
		goto out;
	}
	if ((fid = json_str(j, "data.id", MAX_ID)) == NULL) {
		resp_error(rs, 400, "data.id missing");
		goto out;
	}
	answer(rs, persist(a, in.id, "productboard", NULL, kind, fid, NULL,
	    204));
out:
	cJSON_Delete(j);
	store_integration_release(&in);
}

/* Builds the job payload: the issue's coordinates as GitLab sent them. */
static int
issue_payload(const cJSON *j, char *key, size_t keylen, char *payload,
    size_t plen)
{
	long long	 id, iid, pid, moved = 0;

	if (json_int(j, "object_attributes.id", 1, INT64_MAX, &id) == -1 ||
	    json_int(j, "object_attributes.iid", 1, INT64_MAX, &iid) == -1 ||
	    json_int(j, "object_attributes.project_id", 1, INT64_MAX,
	    &pid) == -1)
		return -1;
	json_int(j, "object_attributes.moved_to_id", 1, INT64_MAX, &moved);
	snprintf(key, keylen, "%lld", id);
	snprintf(payload, plen, "{\"id\":%lld,\"iid\":%lld,"
	    "\"project_id\":%lld,\"moved_to_id\":%lld}", id, iid, pid, moved);
	return 0;
}

void
hook_gl_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	struct store_integration in;
	cJSON		*j = NULL;
	const char	*event, *kind, *dedupe;
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
	if ((j = inbound_json(rq, rs, (size_t)a->conf.gitlab_max_body,
	    rd)) == NULL)
		goto out;
	if ((kind = json_str(j, "object_kind", 32)) == NULL) {
		resp_error(rs, 400, "object_kind missing");
		goto out;
	}
	if (strcmp(kind, "issue") != 0) {
		resp_empty(rs, 204);
		goto out;
	}
	if (issue_payload(j, key, sizeof(key), payload, sizeof(payload)) == -1) {
		resp_error(rs, 400, "object_attributes incomplete");
		goto out;
	}
	dedupe = req_param(rq, "HTTP_IDEMPOTENCY_KEY");
	if (dedupe == NULL || *dedupe == '\0')
		dedupe = req_param(rq, "HTTP_X_GITLAB_EVENT_UUID");
	if (dedupe != NULL && (strlen(dedupe) > MAX_KEY ||
	    !util_text_ok(dedupe, strlen(dedupe))))
		dedupe = NULL;
	answer(rs, persist(a, in.id, "gitlab", dedupe, "issue_event", key,
	    payload, 200));
out:
	cJSON_Delete(j);
	store_integration_release(&in);
}
