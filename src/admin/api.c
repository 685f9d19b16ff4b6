/*
 * api: the JSON API under /api/v1 (DESIGN §10), for scripts.
 *
 *   GET    /api/v1/integrations                          with their health
 *   GET    /api/v1/integrations/ID/channels              URLs by their end
 *   PUT    /api/v1/integrations/ID/channels/TYPE         connect
 *   DELETE /api/v1/integrations/ID/channels/TYPE         disconnect
 *   POST   /api/v1/integrations/ID/channels/TYPE/test    send a sample
 *
 * A bearer token of pbsyncctl token add: a viewer reads, writes need an
 * admin.  No cookie is read or set, so no page can make a browser call it.
 * The work is notify_'s, as for pbsyncctl: nothing is decided twice.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin/api.h"
#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "notify/notify.h"
#include "web/session.h"

#define API_MAX_BODY	16384

static void
answer(struct resp *rs, int status, int success, const char *message,
    cJSON *more)
{
	cJSON	*o = more != NULL ? more : cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "success", success);
	if (message != NULL)
		cJSON_AddStringToObject(o, "message", message);
	resp_json(rs, status, o);
	resp_header(rs, "Cache-Control", "no-store");
	cJSON_Delete(o);
}

static void
integrations(struct app *a, struct resp *rs)
{
	struct store_isum	*v;
	size_t			 n, i;
	cJSON			*o, *arr, *it;

	if (store_isum_list(&a->store, &v, &n) != 0) {
		answer(rs, 503, 0, "The database cannot be read.", NULL);
		return;
	}
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "integrations");
	for (i = 0; i < n; i++) {
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "id", v[i].id);
		cJSON_AddStringToObject(it, "name", v[i].name);
		cJSON_AddStringToObject(it, "tracker", v[i].tracker_kind);
		cJSON_AddStringToObject(it, "project",
		    v[i].tracker_project_name);
		cJSON_AddBoolToObject(it, "healthy", v[i].auth_failed == NULL &&
		    v[i].jobs_dead == 0);
		if (v[i].auth_failed != NULL)
			cJSON_AddStringToObject(it, "auth_failed",
			    v[i].auth_failed);
		cJSON_AddNumberToObject(it, "links", (double)v[i].links);
		cJSON_AddNumberToObject(it, "jobs_dead", (double)v[i].jobs_dead);
		cJSON_AddNumberToObject(it, "jobs_waiting",
		    (double)v[i].jobs_waiting);
		cJSON_AddItemToArray(arr, it);
	}
	store_isum_free(v, n);
	answer(rs, 200, 1, NULL, o);
}

static void
channels(struct app *a, struct resp *rs, const char *iid)
{
	struct store_channel	*v;
	size_t			 n, i;
	cJSON			*o, *arr, *it;
	char			 tail[16];

	if (store_channel_list(&a->store, iid, &v, &n) != 0) {
		answer(rs, 503, 0, "The database cannot be read.", NULL);
		return;
	}
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "channels");
	for (i = 0; i < n; i++) {
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "type", v[i].type);
		snprintf(tail, sizeof(tail), "...%s", v[i].url_tail);
		cJSON_AddStringToObject(it, "url", tail);
		cJSON_AddStringToObject(it, "events", v[i].events);
		cJSON_AddBoolToObject(it, "active", v[i].active);
		cJSON_AddNumberToObject(it, "failures", (double)v[i].failures);
		if (v[i].last_error != NULL)
			cJSON_AddStringToObject(it, "last_error",
			    v[i].last_error);
		cJSON_AddItemToArray(arr, it);
	}
	store_channels_free(v, n);
	answer(rs, 200, 1, NULL, o);
}

/* The events as a comma list, from a JSON array (absent: all). */
static int
events_of(const cJSON *v, char *out, size_t len)
{
	const cJSON	*e;
	size_t		 o = 0;

	if (v == NULL) {
		snprintf(out, len, "*");
		return 0;
	}
	if (!cJSON_IsArray(v))
		return -1;
	out[0] = '\0';
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e) || o + strlen(e->valuestring) + 2 > len)
			return -1;
		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "," : "",
		    e->valuestring);
	}
	return 0;
}

static void
put_channel(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd, const char *iid, const char *type)
{
	char		 msg[512], secret[NOTIFY_SECRET_MAX], events[512];
	cJSON		*in, *out = NULL;
	const cJSON	*url;
	enum notify_rc	 rc;
	int		 st;

	if (!req_content_type_is(rq, "application/json")) {
		answer(rs, 415, 0, "Send JSON (Content-Type: "
		    "application/json).", NULL);
		return;
	}
	if ((st = req_read_body(rq, API_MAX_BODY, rd)) != 0) {
		answer(rs, st, 0, st == 413 ? "The body is too large." :
		    "The body could not be read.", NULL);
		return;
	}
	if ((in = json_parse(buf_str(&rq->body), rq->body.len)) == NULL ||
	    !cJSON_IsObject(in)) {
		cJSON_Delete(in);
		answer(rs, 400, 0, "The body is not a JSON object.", NULL);
		return;
	}
	url = cJSON_GetObjectItem(in, "url");
	if (!cJSON_IsString(url) || events_of(cJSON_GetObjectItem(in,
	    "events"), events, sizeof(events)) == -1) {
		cJSON_Delete(in);
		answer(rs, 422, 0, "Give \"url\" (a string) and \"events\" (an "
		    "array of event names, or leave it out for all).", NULL);
		return;
	}
	rc = notify_connect(a, iid, type, url->valuestring, events, secret,
	    msg, sizeof(msg));
	cJSON_Delete(in);
	if (rc == NOTIFY_OK && secret[0] != '\0') {
		/* Shown once: only its sealed form is kept. */
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "secret", secret);
		crypto_wipe(secret, sizeof(secret));
	}
	answer(rs, notify_http_status(rc), rc == NOTIFY_OK, msg, out);
}

/* Splits "ID/channels[/TYPE[/test]]" after the integrations' prefix. */
static int
split(const char *p, char iid[33], char type[16], int *test)
{
	size_t	 n;

	if (strlen(p) < 32 || strspn(p, "0123456789abcdef") < 32)
		return -1;
	memcpy(iid, p, 32);
	iid[32] = '\0';
	p += 32;
	type[0] = '\0';
	*test = 0;
	if (strcmp(p, "/channels") == 0)
		return 0;
	if (strncmp(p, "/channels/", 10) != 0)
		return -1;
	p += 10;
	if ((n = strcspn(p, "/")) == 0 || n >= 16)
		return -1;
	memcpy(type, p, n);
	type[n] = '\0';
	if (p[n] == '\0')
		return 0;
	*test = strcmp(p + n, "/test") == 0;
	return *test ? 0 : -1;
}

static int
allowed(struct resp *rs, int ok, const char *allow)
{
	if (!ok) {
		resp_header(rs, "Allow", allow);
		answer(rs, 405, 0, "This address does not take that method.",
		    NULL);
	}
	return ok;
}

void
api_handle(struct app *a, struct req *rq, struct resp *rs,
    const struct req_reader *rd)
{
	const char	*p = rq->path + strlen("/api/v1/");
	char		 role[16], iid[33], type[16], msg[512];
	enum req_method	 m = rq->method;
	int		 test, write;
	enum notify_rc	 rc;

	if (app_store(a) == -1) {
		answer(rs, 503, 0, "The database cannot be opened.", NULL);
		return;
	}
	if (session_bearer_role(a, rq, role) != 0) {
		resp_header(rs, "WWW-Authenticate", "Bearer");
		answer(rs, 401, 0, "Send a token made with pbsyncctl token add: "
		    "Authorization: Bearer <token>.", NULL);
		return;
	}
	if (strcmp(p, "integrations") == 0) {
		if (allowed(rs, m == REQ_GET || m == REQ_HEAD, "GET"))
			integrations(a, rs);
		return;
	}
	if (strncmp(p, "integrations/", 13) != 0 ||
	    split(p + 13, iid, type, &test) == -1) {
		answer(rs, 404, 0, "There is no such address.", NULL);
		return;
	}
	write = m != REQ_GET && m != REQ_HEAD;
	if (write && strcmp(role, "admin") != 0) {
		answer(rs, 403, 0, "This token may only read: changes need an "
		    "admin token.", NULL);
		return;
	}
	if (type[0] != '\0' && !notify_type_known(type)) {
		answer(rs, 422, 0, "Unknown channel type: the types are slack, "
		    "discord and webhook.", NULL);
		return;
	}
	if (type[0] == '\0' || test) {
		if (!allowed(rs, test ? m == REQ_POST : !write, test ? "POST" :
		    "GET"))
			return;
		if ((rc = notify_check(a, iid, test ? type : NULL, msg,
		    sizeof(msg))) != NOTIFY_OK)
			answer(rs, notify_http_status(rc), 0, msg, NULL);
		else if (!test)
			channels(a, rs, iid);
		else {
			/* The receiver's refusal is an answer, not our error. */
			test = notify_test(a, iid, type, msg, sizeof(msg)) ==
			    NOTIFY_SENT;
			answer(rs, 200, test, msg, NULL);
		}
	} else if (m == REQ_PUT)
		put_channel(a, rq, rs, rd, iid, type);
	else if (allowed(rs, m == REQ_DELETE, "PUT, DELETE")) {
		rc = notify_disconnect(a, iid, type, msg, sizeof(msg));
		answer(rs, notify_http_status(rc), rc == NOTIFY_OK, msg, NULL);
	}
}
