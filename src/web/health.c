#include "config.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "web/health.h"

int
health_handle(struct app *a, const struct req *rq, struct resp *rs)
{
	struct store_health	 h;
	cJSON			*j, *q;
	int			 ok;

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
