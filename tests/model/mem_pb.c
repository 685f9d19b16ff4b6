/*
 * mem_pb: Productboard as pbsync sees it (REST v2, webhook
 * subscriptions), for one feature: the shapes of tests/doubles/pbdouble.py.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "world.h"

#define ENTITY		"/v2/entities/" W_FEATURE
#define CONNECTION	"/v2/plugin-integrations/" W_PLUGIN "/connections/" \
			W_FEATURE

static const char *const statuses[][2] = {
	{ "st-new", "New" }, { "st-prog", "In progress" }, { "st-done", "Done" }
};
#define NSTATUS	(sizeof(statuses) / sizeof(statuses[0]))

static const char *
status_name(const char *id)
{
	size_t	 i;

	for (i = 0; i < NSTATUS; i++)
		if (strcmp(statuses[i][0], id) == 0)
			return statuses[i][1];
	return NULL;
}

/* feature.updated, as the subscription pbsync registered gets it. */
static void
changed(struct world *w, int echo)
{
	w->f.updated = ++w->now;
	world_send(w, SIDE_PB, "", W_PBHOOK_SECRET, "{\"data\":{\"id\":\""
	    W_FEATURE "\",\"eventType\":\"feature.updated\"}}", echo);
}

static cJSON *
entity(const struct world *w)
{
	cJSON	*j = cJSON_CreateObject(), *d, *f, *s, *l;
	char	 t[40];

	world_time(w->f.updated, 1, t, sizeof(t));
	d = cJSON_AddObjectToObject(j, "data");
	cJSON_AddStringToObject(d, "id", W_FEATURE);
	cJSON_AddStringToObject(d, "type", "feature");
	f = cJSON_AddObjectToObject(d, "fields");
	cJSON_AddStringToObject(f, "name", w->f.name);
	cJSON_AddStringToObject(f, "description", w->f.desc);
	s = cJSON_AddObjectToObject(f, "status");
	cJSON_AddStringToObject(s, "id", w->f.status);
	cJSON_AddStringToObject(s, "name", status_name(w->f.status));
	l = cJSON_AddObjectToObject(d, "links");
	cJSON_AddStringToObject(l, "html", "https://model.productboard.com/"
	    "entity-detail/features/" W_FEATURE);
	cJSON_AddStringToObject(d, "updatedAt", t);
	return j;
}

static int
patch(struct world *w, const cJSON *body, cJSON **out)
{
	const cJSON	*f = cJSON_GetObjectItem(cJSON_GetObjectItem(body,
			    "data"), "fields");
	const cJSON	*st = cJSON_GetObjectItem(cJSON_GetObjectItem(f,
			    "status"), "id");
	int		 a, b, c;

	if (!cJSON_IsObject(f) || (st != NULL &&
	    status_name(cJSON_GetStringValue(st) ?
	    cJSON_GetStringValue(st) : "") == NULL))
		return world_unexpected(w, "PATCH", ENTITY " with a bad body",
		    out);
	a = world_take(cJSON_GetObjectItem(f, "name"), w->f.name,
	    sizeof(w->f.name));
	b = world_take(cJSON_GetObjectItem(f, "description"), w->f.desc,
	    sizeof(w->f.desc));
	c = world_take(st, w->f.status, sizeof(w->f.status));
	if (a < 0 || b < 0 || c < 0)
		return world_unexpected(w, "PATCH", ENTITY " too long", out);
	w->pb_writes++;
	if (a + b + c == 0)
		w->noop_writes++;
	else
		changed(w, 1);
	*out = cJSON_Parse("{\"data\":{\"id\":\"" W_FEATURE "\",\"links\":"
	    "{\"self\":\"" W_PB_URL ENTITY "\"}}}");
	return 200;
}

/* POST /v2/entities/search by ids: the feature if asked, one page. */
static int
search(struct world *w, const cJSON *body, cJSON **out)
{
	const cJSON	*ids = cJSON_GetObjectItem(cJSON_GetObjectItem(
			    cJSON_GetObjectItem(body, "data"), "filter"), "id");
	const cJSON	*it;
	cJSON		*e, *d;

	if (!cJSON_IsArray(ids))
		return world_unexpected(w, "POST", "/v2/entities/search "
		    "without ids", out);
	*out = cJSON_Parse("{\"data\":[],\"links\":{\"next\":null}}");
	cJSON_ArrayForEach(it, ids)
		if (strcmp(cJSON_GetStringValue(it) ? cJSON_GetStringValue(it) :
		    "", W_FEATURE) == 0) {
			e = entity(w);
			d = cJSON_DetachItemFromObject(e, "data");
			cJSON_AddItemToArray(cJSON_GetObjectItem(*out, "data"), d);
			cJSON_Delete(e);
		}
	return 200;
}

int
mem_pb_serve(struct world *w, const char *method, const char *path,
    const cJSON *body, cJSON **out)
{
	if (strcmp(path, ENTITY) == 0 && strcmp(method, "GET") == 0) {
		*out = entity(w);
		return 200;
	}
	if (strcmp(path, "/v2/entities/search") == 0 &&
	    strcmp(method, "POST") == 0)
		return search(w, body, out);
	if (strcmp(path, ENTITY) == 0 && strcmp(method, "PATCH") == 0)
		return patch(w, body, out);
	/* The plugin column: pbsync's own, never a change of the feature. */
	if (strcmp(path, CONNECTION) == 0 && strcmp(method, "PUT") == 0 &&
	    cJSON_IsObject(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(body, "data"), "fields"), "connection"))) {
		w->f.connected = 1;
		*out = cJSON_Parse("{\"data\":{\"id\":\"" W_FEATURE "\"}}");
		return 200;
	}
	if (strcmp(path, CONNECTION) == 0 && strcmp(method, "DELETE") == 0) {
		w->f.connected = 0;
		return 204;
	}
	return world_unexpected(w, method, path, out);
}

void
mem_pb_edit(struct world *w, enum world_field f, unsigned n)
{
	size_t	 i;

	switch (f) {
	case F_NAME:
		snprintf(w->f.name, sizeof(w->f.name), "pb name %u", n);
		break;
	case F_DESC:
		snprintf(w->f.desc, sizeof(w->f.desc), "<p>pb text %u</p>", n);
		break;
	default:
		/* Another status than the one it has: one of the two left. */
		for (i = 0; i + 1 < NSTATUS &&
		    strcmp(statuses[i][0], w->f.status) != 0; i++)
			;
		snprintf(w->f.status, sizeof(w->f.status), "%s",
		    statuses[(i + 1 + n % 2) % NSTATUS][0]);
		break;
	}
	changed(w, 0);
}
