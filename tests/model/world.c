#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "world.h"

const char *
world_kind_name(enum world_kind k)
{
	static const char *const names[KIND_COUNT] = { "gitlab", "github",
	    "jira" };

	return k < KIND_COUNT ? names[k] : "?";
}

void
world_time(long long t, int frac, char *out, size_t len)
{
	time_t		 s = (time_t)WORLD_T0 + (time_t)t;
	struct tm	 tm;

	gmtime_r(&s, &tm);
	strftime(out, len, frac == 2 ? "%Y-%m-%dT%H:%M:%S.000+0000" : frac ?
	    "%Y-%m-%dT%H:%M:%S.000000Z" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
world_send(struct world *w, enum world_side side, const char *key,
    const char *auth, const char *body, int echo)
{
	struct world_delivery *d;

	if (w->npool == WORLD_POOL || strlen(body) >= sizeof(d->body)) {
		w->lost_pool++;
		return;
	}
	d = &w->pool[w->npool++];
	memset(d, 0, sizeof(*d));
	d->side = side;
	d->echo = echo;
	snprintf(d->key, sizeof(d->key), "%s", key);
	snprintf(d->auth, sizeof(d->auth), "%s", auth);
	snprintf(d->body, sizeof(d->body), "%s", body);
}

int
world_take(const cJSON *v, char *dst, size_t len)
{
	const char	*s = cJSON_GetStringValue(v);

	if (v == NULL)
		return 0;
	if (s == NULL || strlen(s) >= len)
		return -1;
	if (strcmp(dst, s) == 0)
		return 0;
	snprintf(dst, len, "%s", s);
	return 1;
}

int
world_unexpected(struct world *w, const char *method, const char *url,
    cJSON **out)
{
	if (w->unexpected++ == 0)
		snprintf(w->what, sizeof(w->what), "unexpected call %s %s",
		    method, url);
	*out = cJSON_Parse("{\"message\":\"404 Not Found\"}");
	return 404;
}

/* 1 if the request carries the header line exactly, else 0. */
static int
has_header(const struct http_req *rq, const char *line)
{
	size_t	 i;

	for (i = 0; rq->headers != NULL && rq->headers[i] != NULL; i++)
		if (strcmp(rq->headers[i], line) == 0)
			return 1;
	return 0;
}

/* The token each service gave pbsync, in the header it wants it. */
static int
authorized(const struct world *w, const struct http_req *rq, int pb)
{
	if (pb)
		return has_header(rq, "Authorization: Bearer " W_PB_TOKEN);
	if (w->kind == KIND_GITLAB)
		return has_header(rq, "PRIVATE-TOKEN: " W_TR_TOKEN);
	/* Jira Cloud: Basic of the account's e-mail and its API token. */
	if (w->kind == KIND_JIRA)
		return has_header(rq, "Authorization: Basic " W_JIRA_BASIC);
	return has_header(rq, "Authorization: Bearer " W_TR_TOKEN) &&
	    has_header(rq, "Accept: application/vnd.github+json");
}

int
world_serve(struct world *w, const struct http_req *rq, cJSON **out)
{
	cJSON	*body = NULL;
	int	 st, pb = strncmp(rq->url, W_PB_URL "/", sizeof(W_PB_URL)) == 0;

	*out = NULL;
	if (!authorized(w, rq, pb))
		return world_unexpected(w, rq->method, "without its token",
		    out);
	if (rq->body != NULL && rq->bodylen > 0 &&
	    (body = cJSON_ParseWithLength(rq->body, rq->bodylen)) == NULL)
		return world_unexpected(w, rq->method, "with a malformed body",
		    out);
	if (pb)
		st = mem_pb_serve(w, rq->method, rq->url + sizeof(W_PB_URL) -
		    1, body, out);
	else if (strncmp(rq->url, W_TR_URL "/", sizeof(W_TR_URL)) == 0)
		st = mem_tracker_serve(w, rq->method, rq->url +
		    sizeof(W_TR_URL) - 1, body, out);
	else
		st = world_unexpected(w, rq->method, rq->url, out);
	cJSON_Delete(body);
	return st;
}
