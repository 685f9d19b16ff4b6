#include "config.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "app/metrics.h"
#include "base/crypto.h"
#include "base/log.h"
#include "web/health.h"
#include "web/session.h"

/*
 * 1 if the client may see the counts: it is this host, or it shows an API
 * token (pbsyncctl token add; any role may read).
 */
static int
trusted_client(struct app *a, const struct req *rq)
{
	const char	*ip = req_param(rq, "REMOTE_ADDR");
	char		 role[16];

	if (ip != NULL && (strncmp(ip, "127.", 4) == 0 ||
	    strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0))
		return 1;
	return session_bearer_role(a, rq, role) == 0;
}

/*
 * GET /metrics: the Prometheus text of every process's counters and the
 * gauges, for clients on this host or with an API token (any role), as
 * the details of /healthz.  Others get 401 and nothing of it.
 */
static void
metrics(struct app *a, const struct req *rq, struct resp *rs)
{
	if (!metrics_enabled()) {
		resp_error(rs, 404, "not found");
		return;
	}
	if (rq->method != REQ_GET && rq->method != REQ_HEAD) {
		resp_header(rs, "Allow", "GET, HEAD");
		resp_error(rs, 405, "method not allowed");
		return;
	}
	if (trusted_client(a, rq) == 0) {
		log_info("refused /metrics: not on this host and no API token");
		resp_header(rs, "WWW-Authenticate", "Bearer");
		resp_error(rs, 401, "unauthorized");
		return;
	}
	resp_text(rs, 200, "");
	if (app_store(a) == -1 || metrics_render(a, &rs->body) == -1) {
		resp_unavailable(rs, "the database cannot be read");
		return;
	}
	snprintf(rs->content_type, sizeof(rs->content_type),
	    "text/plain; version=0.0.4; charset=utf-8");
}

/*
 * Everyone gets the status (and 200 or 503): a load balancer needs no
 * more.  The program, the database and key state, the schema version and
 * the queue and link counts go to clients on this host, or with an API
 * token, only.
 */
int
health_handle(struct app *a, const struct req *rq, struct resp *rs)
{
	struct store_health	 h;
	cJSON			*j, *q;
	int			 ok;

	if (strcmp(rq->path, "/metrics") == 0 && !rq->auth_only) {
		metrics(a, rq, rs);
		return 1;
	}
	if (strcmp(rq->path, "/healthz") != 0)
		return 0;
	if (rq->method != REQ_GET && rq->method != REQ_HEAD) {
		resp_error(rs, 405, "method not allowed");
		return 1;
	}
	ok = app_store(a) == 0 && store_health(&a->store, &h) == 0 &&
	    h.schema_version == store_latest_version();
	if ((j = cJSON_CreateObject()) == NULL) {
		resp_error(rs, 503, "out of memory");
		return 1;
	}
	cJSON_AddStringToObject(j, "status", ok ? "ok" : "unavailable");
	if (!trusted_client(a, rq)) {
		resp_json(rs, ok ? 200 : 503, j);
		cJSON_Delete(j);
		return 1;
	}
	cJSON_AddStringToObject(j, "program", a->prog);
	cJSON_AddStringToObject(j, "database", ok ? "ok" : "unusable");
	cJSON_AddBoolToObject(j, "key", a->key.loaded);
	if (ok) {
		cJSON_AddNumberToObject(j, "schema_version", h.schema_version);
		q = cJSON_AddObjectToObject(j, "queue");
		cJSON_AddNumberToObject(q, "ready", (double)h.jobs_ready);
		cJSON_AddNumberToObject(q, "leased", (double)h.jobs_leased);
		cJSON_AddNumberToObject(q, "dead", (double)h.jobs_dead);
		cJSON_AddNumberToObject(j, "integrations",
		    (double)h.integrations);
		cJSON_AddNumberToObject(j, "links", (double)h.links);
	}
	resp_json(rs, ok ? 200 : 503, j);
	cJSON_Delete(j);
	return 1;
}
