/*
 * mem_tracker: the issue pbsync made, as GitLab's REST v4 or GitHub's REST
 * show it, with the webhook deliveries each sends (the shapes of
 * tests/doubles/gldouble.py and ghdouble.py): GitLab's token header and
 * Idempotency-Key, GitHub's X-GitHub-Delivery and its HMAC of the body.
 * Jira, whose API has other shapes throughout, is mem_jira.c.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/crypto.h"
#include "trackers/marker.h"
#include "world.h"

#define GL_ISSUES	"/api/v4/projects/1001/issues"
#define GH_ISSUES	"/repos/" W_GH_REPO "/issues"
#define GITHUB(w)	((w)->kind == KIND_GITHUB)	/* else GitLab */

static cJSON *
issue(const struct world *w)
{
	cJSON	*j = cJSON_CreateObject(), *u;
	char	 t[40], url[160];

	world_time(w->i.updated, 0, t, sizeof(t));
	cJSON_AddNumberToObject(j, "id", W_ISSUE_ID);
	cJSON_AddStringToObject(j, "title", w->i.title);
	cJSON_AddStringToObject(j, "updated_at", t);
	cJSON_AddArrayToObject(j, "labels");
	if (GITHUB(w)) {
		snprintf(url, sizeof(url), "https://github.model.test/"
		    W_GH_REPO "/issues/%d", W_ISSUE_NO);
		cJSON_AddNumberToObject(j, "number", W_ISSUE_NO);
		cJSON_AddStringToObject(j, "body", w->i.desc);
		cJSON_AddStringToObject(j, "state", strcmp(w->i.state,
		    "closed") == 0 ? "closed" : "open");
		cJSON_AddStringToObject(j, "html_url", url);
		u = cJSON_AddObjectToObject(j, "user");
	} else {
		snprintf(url, sizeof(url), "https://gitlab.model.test/g/p/-/"
		    "issues/%d", W_ISSUE_NO);
		cJSON_AddNumberToObject(j, "iid", W_ISSUE_NO);
		cJSON_AddNumberToObject(j, "project_id", W_GL_PROJECT);
		cJSON_AddStringToObject(j, "description", w->i.desc);
		cJSON_AddStringToObject(j, "state", w->i.state);
		cJSON_AddStringToObject(j, "web_url", url);
		cJSON_AddNullToObject(j, "moved_to_id");
		u = cJSON_AddObjectToObject(j, "author");
	}
	cJSON_AddNumberToObject(u, "id", W_SELF);
	return j;
}

/* The delivery the tracker sends for any change of the issue. */
static void
changed(struct world *w, const char *action, int echo)
{
	char	 body[WORLD_BODY], key[40], auth[80];

	w->i.updated = ++w->now;
	snprintf(key, sizeof(key), "00000000-0000-4000-8000-%012u",
	    ++w->serial);
	if (GITHUB(w)) {
		snprintf(body, sizeof(body), "{\"action\":\"%s\",\"issue\":"
		    "{\"id\":%d,\"number\":%d},\"repository\":{\"full_name\":"
		    "\"" W_GH_REPO "\"}}", action, W_ISSUE_ID, W_ISSUE_NO);
		memcpy(auth, "sha256=", 8);
		crypto_hmac_sha256_hex(W_TRHOOK_SECRET, body, strlen(body),
		    auth + 7);
	} else {
		snprintf(body, sizeof(body), "{\"object_kind\":\"issue\","
		    "\"event_type\":\"issue\",\"object_attributes\":{\"id\":%d,"
		    "\"iid\":%d,\"project_id\":%d,\"action\":\"%s\"}}",
		    W_ISSUE_ID, W_ISSUE_NO, W_GL_PROJECT, action);
		snprintf(auth, sizeof(auth), "%s", W_TRHOOK_SECRET);
	}
	world_send(w, SIDE_TR, key, auth, body, echo);
}

/* The state an edit asks for, in either API's words, or NULL. */
static const char *
wanted_state(const struct world *w, const cJSON *b, int *bad)
{
	const char	*s = cJSON_GetStringValue(cJSON_GetObjectItem(b,
			    GITHUB(w) ? "state" : "state_event"));

	*bad = 0;
	if (s == NULL)
		return NULL;
	if (strcmp(s, GITHUB(w) ? "open" : "reopen") == 0)
		return "opened";
	if (strcmp(s, GITHUB(w) ? "closed" : "close") == 0)
		return "closed";
	*bad = 1;
	return NULL;
}

static int
edit(struct world *w, const cJSON *b, cJSON **out)
{
	const char	*st;
	int		 a, d, s = 0, bad;

	st = wanted_state(w, b, &bad);
	/* No label is managed in the model's status map. */
	if (!w->i.exists || bad || cJSON_GetObjectItem(b, "labels") ||
	    cJSON_GetObjectItem(b, "add_labels") ||
	    cJSON_GetObjectItem(b, "remove_labels"))
		return world_unexpected(w, "edit", "of the issue", out);
	a = world_take(cJSON_GetObjectItem(b, "title"), w->i.title,
	    sizeof(w->i.title));
	d = world_take(cJSON_GetObjectItem(b, GITHUB(w) ? "body" :
	    "description"), w->i.desc, sizeof(w->i.desc));
	if (a < 0 || d < 0)
		return world_unexpected(w, "edit", "too long", out);
	if (st != NULL && strcmp(st, w->i.state) != 0) {
		snprintf(w->i.state, sizeof(w->i.state), "%s", st);
		s = 1;
	}
	w->tr_writes++;
	if (a + d + s == 0)
		w->noop_writes++;
	else
		changed(w, GITHUB(w) ? (s ? (strcmp(st, "closed") == 0 ?
		    "closed" : "reopened") : "edited") : "update", 1);
	*out = issue(w);
	return 200;
}

static int
create(struct world *w, const cJSON *b, cJSON **out)
{
	if (w->i.exists || world_take(cJSON_GetObjectItem(b, "title"),
	    w->i.title, sizeof(w->i.title)) < 0 ||
	    world_take(cJSON_GetObjectItem(b, GITHUB(w) ? "body" :
	    "description"), w->i.desc, sizeof(w->i.desc)) < 0)
		return world_unexpected(w, "POST", "a second issue", out);
	w->i.exists = 1;
	snprintf(w->i.state, sizeof(w->i.state), "opened");
	changed(w, GITHUB(w) ? "opened" : "open", 1);
	*out = issue(w);
	return 201;
}

/* GitLab's list by iids[] (reconcile's scan): the issue if asked. */
static int
list(struct world *w, const char *query, cJSON **out)
{
	char	 want[32];

	if (strncmp(query, "state=all&per_page=100&", 23) != 0)
		return world_unexpected(w, "GET", "issues with other filters",
		    out);
	snprintf(want, sizeof(want), "iids[]=%d", W_ISSUE_NO);
	*out = cJSON_CreateArray();
	if (w->i.exists && strstr(query, want) != NULL)
		cJSON_AddItemToArray(*out, issue(w));
	return 200;
}

int
mem_tracker_serve(struct world *w, const char *method, const char *path,
    const cJSON *body, cJSON **out)
{
	const char	*base = GITHUB(w) ? GH_ISSUES : GL_ISSUES;
	size_t		 n = strlen(base);
	char		 one[16];

	if (w->kind == KIND_JIRA)
		return mem_jira_serve(w, method, path, body, out);
	snprintf(one, sizeof(one), "/%d", W_ISSUE_NO);
	if (strcmp(path, GITHUB(w) ? "/user" : "/api/v4/user") == 0 &&
	    strcmp(method, "GET") == 0) {
		*out = cJSON_Parse("{\"id\":42,\"login\":\"pbsync\","
		    "\"username\":\"pbsync\"}");
		return 200;
	}
	if (strncmp(path, base, n) != 0)
		return world_unexpected(w, method, path, out);
	if (path[n] == '\0' && strcmp(method, "POST") == 0)
		return create(w, body, out);
	if (path[n] == '?' && strcmp(method, "GET") == 0 && !GITHUB(w))
		return list(w, path + n + 1, out);
	if (strcmp(path + n, one) != 0)
		return world_unexpected(w, method, path, out);
	if (strcmp(method, "GET") == 0 && w->i.exists) {
		*out = issue(w);
		return 200;
	}
	if (strcmp(method, GITHUB(w) ? "PATCH" : "PUT") == 0)
		return edit(w, body, out);
	return world_unexpected(w, method, path, out);
}

void
mem_tracker_edit(struct world *w, enum world_field f, unsigned n)
{
	char		 text[WORLD_TEXT], desc[WORLD_DESC];
	const char	*foot;
	int		 closing;

	if (w->kind == KIND_JIRA) {
		mem_jira_edit(w, f, n);
		return;
	}
	switch (f) {
	case F_NAME:
		snprintf(w->i.title, sizeof(w->i.title), "tr name %u", n);
		break;
	case F_DESC:
		/* A person edits the text above pbsync's footer. */
		snprintf(text, sizeof(text), "tr text %u", n);
		for (foot = w->i.desc + marker_strip_len(w->i.desc);
		    *foot == '\n' || *foot == ' ' || *foot == '-'; foot++)
			;
		snprintf(desc, sizeof(desc), "%s\n\n---\n\n%s", text, foot);
		memcpy(w->i.desc, desc, sizeof(desc));
		break;
	default:
		closing = strcmp(w->i.state, "opened") == 0;
		snprintf(w->i.state, sizeof(w->i.state), "%s", closing ?
		    "closed" : "opened");
		changed(w, GITHUB(w) ? (closing ? "closed" : "reopened") :
		    (closing ? "close" : "reopen"), 0);
		return;
	}
	changed(w, GITHUB(w) ? "edited" : "update", 0);
}

void
mem_tracker_desc_text(enum world_kind k, const char *desc, char *out,
    size_t len)
{
	size_t	 n;

	if (k == KIND_JIRA) {
		mem_jira_desc_text(desc, out, len);
		return;
	}
	n = marker_strip_len(desc);
	while (n > 0 && (desc[n - 1] == '\n' || desc[n - 1] == ' '))
		n--;
	snprintf(out, len, "%.*s", (int)n, desc);
}

void
mem_tracker_text(const struct world *w, char *out, size_t len)
{
	mem_tracker_desc_text(w->kind, w->i.desc, out, len);
}

const char *
mem_tracker_class(enum world_kind k, const char *state)
{
	if (k != KIND_JIRA)
		return state;
	if (strcmp(state, "Done") == 0)
		return "closed";
	if (strcmp(state, "To Do") == 0 || strcmp(state, "In Progress") == 0)
		return "opened";
	return state;
}
