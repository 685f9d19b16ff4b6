#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "upstream/pb.h"

#define MAX_NAME	255
#define MAX_DESC	(1u << 20)

int
pb_init(struct pb *p, struct app *a, const char *token)
{
	p->base = a->conf.productboard_api_url;
	return upstream_init(&p->up, a, "productboard",
	    "Authorization: Bearer ", token, PB_RATE_PER_S);
}

void
pb_release(struct pb *p)
{
	upstream_release(&p->up);
}

/* Builds base + "/v2/" + parts, each later part escaped as a segment. */
static int
url(struct pb *p, struct buf *b, const char *path, const char *id,
    const char *tail, const char *id2)
{
	buf_init(b, 4096);
	if (buf_printf(b, "%s/v2/%s", p->base, path) == -1)
		return -1;
	if (id != NULL && (buf_putc(b, '/') == -1 ||
	    http_escape_segment(b, id) == -1))
		return -1;
	if (tail != NULL && buf_printf(b, "/%s", tail) == -1)
		return -1;
	if (id2 != NULL && (buf_putc(b, '/') == -1 ||
	    http_escape_segment(b, id2) == -1))
		return -1;
	return 0;
}

/* One call with a URL built by url(); out may be NULL. */
static enum http_err
call(struct pb *p, const char *method, const char *path, const char *id,
    const char *tail, const char *id2, const cJSON *body, cJSON **out)
{
	struct buf	 u;
	enum http_err	 e;

	if (url(p, &u, path, id, tail, id2) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	e = upstream_call(&p->up, method, buf_str(&u), body, out);
	buf_release(&u);
	return e;
}

static char *
dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Reads an entity object (productboard-api-v2.md §3.1) into f. */
static enum http_err
read_feature(struct pb *p, const cJSON *d, struct pb_feature *f)
{
	const cJSON	*desc = json_get(d, "fields.description");
	const char	*t;

	memset(f, 0, sizeof(*f));
	f->id = dup_or_empty(json_str(d, "id", 64));
	f->name = dup_or_empty(json_str(d, "fields.name", MAX_NAME * 4));
	f->description = dup_or_empty(cJSON_GetStringValue(desc));
	f->status_id = dup_or_empty(json_str(d, "fields.status.id", 64));
	f->status_name = dup_or_empty(json_str(d, "fields.status.name",
	    MAX_NAME));
	f->html_url = dup_or_empty(json_str(d, "links.html", 2048));
	if ((t = json_str(d, "updatedAt", 64)) != NULL)
		util_parse_time(t, &f->updated_at);
	if (f->id == NULL || f->name == NULL || f->description == NULL ||
	    f->status_id == NULL || f->status_name == NULL ||
	    f->html_url == NULL) {
		pb_feature_release(f);
		return HTTP_EINTERNAL;
	}
	if (f->id[0] == '\0') {
		snprintf(p->up.err, sizeof(p->up.err),
		    "productboard sent an entity without id");
		pb_feature_release(f);
		return HTTP_ESERVER;
	}
	return HTTP_OK;
}

enum http_err
pb_feature_get(struct pb *p, const char *id, struct pb_feature *f)
{
	cJSON		*j = NULL;
	enum http_err	 e;

	memset(f, 0, sizeof(*f));
	if ((e = call(p, "GET", "entities", id, NULL, NULL, NULL, &j)) != HTTP_OK)
		return e;
	e = read_feature(p, json_get(j, "data"), f);
	cJSON_Delete(j);
	return e;
}

/* The search's body: these ids, the fields a sync compares. */
static cJSON *
search_body(const char *const *ids, size_t n)
{
	static const char *const want[] = { "name", "description", "status" };
	cJSON	*j = cJSON_CreateObject(), *d, *flt, *ret, *a;
	size_t	 k;

	if (j == NULL || (d = cJSON_AddObjectToObject(j, "data")) == NULL ||
	    (flt = cJSON_AddObjectToObject(d, "filter")) == NULL ||
	    (a = cJSON_AddArrayToObject(flt, "id")) == NULL ||
	    (ret = cJSON_AddObjectToObject(d, "return")) == NULL ||
	    cJSON_AddItemToObject(ret, "fields", cJSON_CreateStringArray(want,
	    3)) == 0) {
		cJSON_Delete(j);
		return NULL;
	}
	for (k = 0; k < n; k++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(ids[k]))) {
			cJSON_Delete(j);
			return NULL;
		}
	return j;
}

/* Takes the features of one page into the slots of their ids. */
static enum http_err
search_page(struct pb *p, const cJSON *page, const char *const *ids,
    size_t n, struct pb_feature *out)
{
	const cJSON	*it;
	struct pb_feature f;
	enum http_err	 e;
	size_t		 k;

	cJSON_ArrayForEach(it, json_get(page, "data")) {
		if ((e = read_feature(p, it, &f)) != HTTP_OK)
			return e;
		for (k = 0; k < n && strcmp(ids[k], f.id) != 0; k++)
			;
		if (k < n && out[k].id == NULL)
			out[k] = f;
		else
			pb_feature_release(&f);
	}
	return HTTP_OK;
}

enum http_err
pb_feature_scan(struct pb *p, const char *const *ids, size_t n,
    struct pb_feature *out)
{
	cJSON		*body = NULL, *j = NULL;
	char		*next = NULL;
	struct buf	 u;
	enum http_err	 e = HTTP_OK;
	size_t		 k, pages = 0;

	memset(out, 0, n * sizeof(*out));
	if (n == 0)
		return HTTP_OK;
	if (url(p, &u, "entities/search", NULL, NULL, NULL) == -1 ||
	    (next = strdup(buf_str(&u))) == NULL ||
	    (body = search_body(ids, n)) == NULL)
		e = HTTP_EINTERNAL;
	buf_release(&u);
	/* Follow links.next verbatim, the body sent again (§2). */
	while (e == HTTP_OK && next != NULL) {
		/* Each page holds one of them at least, or it loops. */
		if (++pages > n + 1) {
			snprintf(p->up.err, sizeof(p->up.err),
			    "productboard's search does not end");
			e = HTTP_ESERVER;
			break;
		}
		e = upstream_call(&p->up, "POST", next, body, &j);
		free(next);
		next = NULL;
		if (e == HTTP_OK && (e = search_page(p, j, ids, n, out)) ==
		    HTTP_OK && json_str(j, "links.next", 4096) != NULL &&
		    (next = strdup(json_str(j, "links.next", 4096))) == NULL)
			e = HTTP_EINTERNAL;
		cJSON_Delete(j);
		j = NULL;
	}
	free(next);
	cJSON_Delete(body);
	for (k = 0; k < n && e != HTTP_OK; k++)
		pb_feature_release(&out[k]);
	return e;
}

void
pb_feature_release(struct pb_feature *f)
{
	free(f->id);
	free(f->name);
	free(f->description);
	free(f->status_id);
	free(f->status_name);
	free(f->html_url);
	memset(f, 0, sizeof(*f));
}

/* {"data":{"fields":fields}}, taking ownership of fields. */
static cJSON *
wrap_fields(cJSON *fields)
{
	cJSON	*j = cJSON_CreateObject(), *d;

	if (j == NULL || fields == NULL ||
	    (d = cJSON_AddObjectToObject(j, "data")) == NULL) {
		cJSON_Delete(j);
		cJSON_Delete(fields);
		return NULL;
	}
	cJSON_AddItemToObject(d, "fields", fields);
	return j;
}

enum http_err
pb_feature_patch(struct pb *p, const char *id, const char *name,
    const char *description, const char *status_id)
{
	cJSON		*f = cJSON_CreateObject(), *j, *st;
	enum http_err	 e;

	if (f != NULL && name != NULL)
		cJSON_AddStringToObject(f, "name", name);
	if (f != NULL && description != NULL)
		cJSON_AddStringToObject(f, "description", description);
	if (f != NULL && status_id != NULL &&
	    (st = cJSON_AddObjectToObject(f, "status")) != NULL)
		cJSON_AddStringToObject(st, "id", status_id);
	if ((j = wrap_fields(f)) == NULL)
		return HTTP_EINTERNAL;
	e = call(p, "PATCH", "entities", id, NULL, NULL, j, NULL);
	cJSON_Delete(j);
	return e;
}

enum http_err
pb_statuses(struct pb *p, cJSON **out)
{
	cJSON		*j = NULL, *arr, *it;
	const cJSON	*vals;
	enum http_err	 e;

	*out = NULL;
	if ((e = call(p, "GET", "entities/configurations/feature", NULL, NULL,
	    NULL, NULL, &j)) != HTTP_OK)
		return e;
	vals = json_get(j, "data.fields.status.values.data");
	if ((arr = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(j);
		return HTTP_EINTERNAL;
	}
	cJSON_ArrayForEach(it, vals) {
		const char *id = json_str(it, "id", 64);
		const char *name = json_str(it, "name", MAX_NAME);
		cJSON *o;

		if (id == NULL || name == NULL ||
		    (o = cJSON_CreateObject()) == NULL)
			continue;
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_Delete(j);
	*out = arr;
	return HTTP_OK;
}

/* Takes data.id of a create answer into a heap string. */
static enum http_err
created_id(struct pb *p, cJSON *j, char **id)
{
	const char	*s = json_str(j, "data.id", 128);

	*id = s != NULL ? strdup(s) : NULL;
	cJSON_Delete(j);
	if (*id == NULL) {
		snprintf(p->up.err, sizeof(p->up.err),
		    "productboard answered without an id");
		return HTTP_ESERVER;
	}
	return HTTP_OK;
}

enum http_err
pb_plugin_create(struct pb *p, const char *type, const char *name,
    const char *label, const char *u, const char *authorization, char **id)
{
	cJSON		*f = cJSON_CreateObject(), *j, *act, *out = NULL;
	enum http_err	 e;

	*id = NULL;
	if (f != NULL) {
		cJSON_AddStringToObject(f, "type", type);
		cJSON_AddStringToObject(f, "name", name);
		cJSON_AddStringToObject(f, "integrationStatus", "enabled");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(f,
		    "initialState"), "label", label);
		act = cJSON_AddObjectToObject(f, "action");
		cJSON_AddStringToObject(act, "url", u);
		cJSON_AddNumberToObject(act, "version", 1);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(act,
		    "headers"), "authorization", authorization);
	}
	if ((j = wrap_fields(f)) == NULL)
		return HTTP_EINTERNAL;
	e = call(p, "POST", "plugin-integrations", NULL, NULL, NULL, j, &out);
	cJSON_Delete(j);
	if (e != HTTP_OK) {
		cJSON_Delete(out);
		return e;
	}
	return created_id(p, out, id);
}

enum http_err
pb_plugin_patch_label(struct pb *p, const char *id, const char *label)
{
	cJSON		*f = cJSON_CreateObject(), *j;
	enum http_err	 e;

	if (f != NULL)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(f,
		    "initialState"), "label", label);
	if ((j = wrap_fields(f)) == NULL)
		return HTTP_EINTERNAL;
	e = call(p, "PATCH", "plugin-integrations", id, NULL, NULL, j, NULL);
	cJSON_Delete(j);
	return e;
}

enum http_err
pb_plugin_delete(struct pb *p, const char *id)
{
	return call(p, "DELETE", "plugin-integrations", id, NULL, NULL, NULL,
	    NULL);
}

enum http_err
pb_plugin_get(struct pb *p, const char *id, int *enabled)
{
	cJSON		*j = NULL;
	enum http_err	 e;
	const char	*s;

	*enabled = 0;
	e = call(p, "GET", "plugin-integrations", id, NULL, NULL, NULL, &j);
	if (e == HTTP_OK)
		*enabled = (s = json_str(j, "data.fields.integrationStatus",
		    32)) == NULL || strcmp(s, "disabled") != 0;
	cJSON_Delete(j);
	return e;
}

enum http_err
pb_connection_put(struct pb *p, const char *plugin_id, const char *entity_id,
    const cJSON *connection)
{
	cJSON		*f = cJSON_CreateObject(), *j;
	enum http_err	 e;

	if (f != NULL)
		cJSON_AddItemToObject(f, "connection",
		    cJSON_Duplicate(connection, 1));
	if ((j = wrap_fields(f)) == NULL)
		return HTTP_EINTERNAL;
	e = call(p, "PUT", "plugin-integrations", plugin_id, "connections",
	    entity_id, j, NULL);
	cJSON_Delete(j);
	return e;
}

enum http_err
pb_connection_delete(struct pb *p, const char *plugin_id,
    const char *entity_id)
{
	return call(p, "DELETE", "plugin-integrations", plugin_id,
	    "connections", entity_id, NULL, NULL);
}

enum http_err
pb_webhook_create(struct pb *p, const char *name, const char *u,
    const char *authorization, char **id)
{
	static const char *events[] = { "feature.updated", "feature.deleted" };
	cJSON		*f = cJSON_CreateObject(), *j, *ev, *n, *out = NULL;
	enum http_err	 e;
	size_t		 i;

	*id = NULL;
	if (f != NULL) {
		cJSON_AddStringToObject(f, "name", name);
		ev = cJSON_AddArrayToObject(f, "events");
		for (i = 0; i < 2; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "eventType", events[i]);
			cJSON_AddItemToArray(ev, o);
		}
		n = cJSON_AddObjectToObject(f, "notification");
		cJSON_AddStringToObject(n, "url", u);
		cJSON_AddNumberToObject(n, "version", 1);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(n, "headers"),
		    "authorization", authorization);
	}
	if ((j = wrap_fields(f)) == NULL)
		return HTTP_EINTERNAL;
	e = call(p, "POST", "webhooks", NULL, NULL, NULL, j, &out);
	cJSON_Delete(j);
	if (e != HTTP_OK) {
		cJSON_Delete(out);
		return e;
	}
	return created_id(p, out, id);
}

enum http_err
pb_webhook_delete(struct pb *p, const char *id)
{
	return call(p, "DELETE", "webhooks", id, NULL, NULL, NULL, NULL);
}

enum http_err
pb_webhook_get(struct pb *p, const char *id)
{
	return call(p, "GET", "webhooks", id, NULL, NULL, NULL, NULL);
}

/* -- inbound payloads ---------------------------------------------------- */

static const struct {
	const char	*name;
	enum pb_trigger	 trigger;
} triggers[] = {
	{ "button.push", PB_TRIGGER_PUSH },
	{ "button.unlink", PB_TRIGGER_UNLINK },
	{ "button.dismiss", PB_TRIGGER_DISMISS },
};

/* "Jane Doe <jane@example.com>" from data.triggeredByUser, for the log. */
static void
actor_of(const cJSON *j, char *out, size_t len)
{
	const char	*name = json_str(j, "data.triggeredByUser.name",
			    PB_MAX_USER);
	const char	*mail = json_str(j, "data.triggeredByUser.email",
			    PB_MAX_USER);

	snprintf(out, len, "%s%s%s%s", name ? name : "",
	    mail ? (name ? " <" : "<") : "", mail ? mail : "", mail ? ">" : "");
	if (*out == '\0')
		snprintf(out, len, "unknown user");
}

int
pb_action_decode(struct pb_action *a, const char *body, size_t len)
{
	cJSON		*j;
	const char	*trigger, *fid;
	size_t		 i, n = sizeof(triggers) / sizeof(triggers[0]);

	memset(a, 0, sizeof(*a));
	if ((j = json_parse(body, len)) == NULL) {
		a->error = "malformed JSON";
		goto out;
	}
	if (!cJSON_IsObject(json_get(j, "data"))) {
		a->error = "data object required";
		goto out;
	}
	trigger = json_str(j, "data.trigger", 32);
	fid = json_str(j, "data.feature.id", PB_MAX_ID);
	if (trigger == NULL || fid == NULL) {
		a->error = "data.trigger and data.feature.id required";
		goto out;
	}
	for (i = 0; i < n && strcmp(trigger, triggers[i].name) != 0; i++)
		;
	if (i == n) {
		a->error = "unknown trigger";
		goto out;
	}
	a->trigger = triggers[i].trigger;
	a->trigger_name = triggers[i].name;
	snprintf(a->feature_id, sizeof(a->feature_id), "%s", fid);
	actor_of(j, a->actor, sizeof(a->actor));
out:
	cJSON_Delete(j);
	return a->error != NULL ? -1 : 0;
}

int
pb_event_decode(struct pb_event *e, const char *body, size_t len)
{
	cJSON		*j;
	const char	*type, *fid;

	memset(e, 0, sizeof(*e));
	if ((j = json_parse(body, len)) == NULL) {
		e->error = "malformed JSON";
		goto out;
	}
	if ((type = json_str(j, "data.eventType", sizeof(e->type) - 1)) ==
	    NULL) {
		e->error = "data.eventType missing";
		goto out;
	}
	snprintf(e->type, sizeof(e->type), "%s", type);
	if (strcmp(type, "feature.updated") == 0)
		e->kind = PB_EVENT_UPDATED;
	else if (strcmp(type, "feature.deleted") == 0)
		e->kind = PB_EVENT_DELETED;
	else
		goto out;	/* ignored: it needs no id */
	if ((fid = json_str(j, "data.id", PB_MAX_ID)) == NULL)
		e->error = "data.id missing";
	else
		snprintf(e->feature_id, sizeof(e->feature_id), "%s", fid);
out:
	cJSON_Delete(j);
	return e->error != NULL ? -1 : 0;
}
