#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/crypto.h"
#include "base/json.h"
#include "base/util.h"
#include "convert/adf.h"
#include "trackers/jira.h"

/* Jira Cloud's limit on a description (the ADF document, as JSON). */
#define MAX_DESCRIPTION	32767
#define MAX_PAGES	10		/* of the marker search */
#define FIELDS		"summary,description,status,labels,updated," \
			"reporter,project"
/* The admin webhook's JQL filter (webhooks §"Registering a webhook"). */
#define HOOK_FILTER	"issue-related-events-section"
/* A project "<project id>:<issue type id>", as the backend keeps it. */
#define MAX_PROJECT	64

static const struct tracker_option options[] = {
	{ "email", "Account e-mail (the API token's user)", NULL, 1 },
	{ "issue_type", "Issue type of new issues", "Task", 0 },
	{ NULL, NULL, NULL, 0 }
};

static int
open_jira(struct tracker *t, struct app *a, const char *url,
    const char *token)
{
	const char	*email = tracker_option(t, "email");
	char		*pair, b64[2048];
	int		 rc;

	if (*email == '\0' || strlen(email) + strlen(token) + 2 > 1400 ||
	    (t->base = strdup(url)) == NULL)
		return -1;
	util_strip_trailing(t->base, '/');
	/* Basic auth of the pair (basic-auth-for-rest-apis). */
	if ((pair = malloc(strlen(email) + strlen(token) + 2)) == NULL)
		return -1;
	sprintf(pair, "%s:%s", email, token);
	rc = crypto_base64(pair, strlen(pair), b64, sizeof(b64));
	crypto_free_secret(pair);
	if (rc == -1 || upstream_init(&t->up, a, "jira",
	    "Authorization: Basic ", b64, JIRA_RATE_PER_S) == -1) {
		free(t->base);
		t->base = NULL;
		return -1;
	}
	t->up.rate_limited = jira_rate_limited;
	t->up.limit_is_shared = jira_limit_is_shared;
	return 0;
}

int
jira_rate_limited(const struct http_resp *r)
{
	/* rate-limiting: "Some 503 responses also carry Retry-After". */
	return r->status == 503 && r->retry_after >= 0;
}

int
jira_limit_is_shared(const struct http_resp *r)
{
	return strcasecmp(r->ratelimit_reason, "jira-per-issue-on-write") != 0;
}

/* The project id and issue type id of kept, "<project>:<type>": 0 or -1. */
static int
split_kept(const char *kept, char pid[MAX_PROJECT], char tid[MAX_PROJECT])
{
	const char	*c;

	if (kept == NULL || (c = strchr(kept, ':')) == NULL ||
	    (size_t)(c - kept) >= MAX_PROJECT || strlen(c + 1) >= MAX_PROJECT)
		return -1;
	memcpy(pid, kept, (size_t)(c - kept));
	pid[c - kept] = '\0';
	memcpy(tid, c + 1, strlen(c + 1) + 1);
	return 0;
}

static int
split_project(const struct tracker *t, char pid[MAX_PROJECT],
    char tid[MAX_PROJECT])
{
	return split_kept(t->project, pid, tid);
}

/* A text field of Jira's answer, or "" when absent or not text. */
static const char *
str_of(const cJSON *j, const char *path, size_t maxlen)
{
	const char	*s = json_str(j, path, maxlen);

	return s != NULL ? s : "";
}

/* "<site>/rest/api/3<rest>"; escaped segments are the caller's. */
static int
api_url(const struct tracker *t, struct buf *b, const char *rest)
{
	buf_init(b, 8192);
	return buf_printf(b, "%s/rest/api/3%s", t->base, rest);
}

static int
issue_url(const struct tracker *t, struct buf *b, const char *ref,
    const char *rest)
{
	if (api_url(t, b, "/issue/") == -1 ||
	    http_escape_segment(b, ref) == -1 ||
	    buf_puts(b, rest) == -1)
		return -1;
	return 0;
}

/*
 * A Jira id, a string (or number) of digits, 1 to 2^63 - 1 as the other
 * backends' ids, as text in *out; 0 or -1.
 */
static int
id_text(const cJSON *j, const char *path, char **out)
{
	const cJSON	*v = json_get(j, path);
	const char	*s = cJSON_GetStringValue(v);
	long		 id;

	*out = NULL;
	if (s == NULL)
		return tracker_json_id(j, path, out);
	if (*s == '0' || strspn(s, "0123456789") != strlen(s) ||
	    util_parse_long(s, 1, LONG_MAX, &id) == -1)
		return -1;
	return (*out = strdup(s)) != NULL ? 0 : -1;
}

/* Notes, for the sync log, what a write changed to fit Jira. */
static void
adapted(struct tracker *t, const char *what)
{
	size_t	 n = strlen(t->adapted);

	if (strstr(t->adapted, what) == NULL)
		snprintf(t->adapted + n, sizeof(t->adapted) - n, "%s%s",
		    n > 0 ? "; " : "", what);
}

/* Labels for Jira: no whitespace in a label (spaces become '_'). */
static int
add_labels(struct tracker *t, cJSON *array, const char *list, const char *op)
{
	const char	*p = list, *c;
	char		*one, *q;
	cJSON		*o;

	while (p != NULL && *p != '\0') {
		c = strchr(p, ',');
		if ((one = strndup(p, c != NULL ? (size_t)(c - p) :
		    strlen(p))) == NULL)
			return -1;
		for (q = one; *q != '\0'; q++)
			if (*q == ' ' || *q == '\t') {
				*q = '_';
				adapted(t, "spaces in labels made _");
			}
		if (*one != '\0' && op == NULL)
			cJSON_AddItemToArray(array, cJSON_CreateString(one));
		else if (*one != '\0' &&
		    (o = cJSON_CreateObject()) != NULL) {
			cJSON_AddStringToObject(o, op, one);
			cJSON_AddItemToArray(array, o);
		}
		free(one);
		p = c != NULL ? c + 1 : NULL;
	}
	return 0;
}

/* Reads an issue (issue-group "Get issue") of the integration's project. */
static int
read_issue(const struct tracker *t, const cJSON *j, struct tracker_issue *out)
{
	const cJSON	*f = cJSON_GetObjectItem(j, "fields"), *d;
	const char	*s, *cat;
	char		*text;

	memset(out, 0, sizeof(*out));
	if (id_text(j, "id", &out->id) == -1 ||
	    (out->ref = strdup(out->id)) == NULL ||
	    (s = json_str(j, "key", 64)) == NULL ||
	    (out->key = strdup(s)) == NULL)
		goto fail;
	if ((s = json_str(f, "reporter.accountId", 128)) != NULL)
		out->author = strdup(s);
	s = json_str(f, "summary", 4 * JIRA_MAX_SUMMARY);
	out->title = strdup(s != NULL ? s : "");
	d = cJSON_GetObjectItem(f, "description");
	if (cJSON_IsObject(d)) {
		if ((text = cJSON_PrintUnformatted(d)) == NULL)
			goto fail;
		out->description = strdup(text);
		cJSON_free(text);
	} else
		out->description = strdup("");
	s = json_str(f, "status.name", 255);
	cat = json_str(f, "status.statusCategory.key", 32);
	out->state = strdup(s != NULL ? s : "");
	out->state_group = strdup(cat != NULL ? cat : "");
	out->state_class = strdup(cat != NULL && strcmp(cat, "done") == 0 ?
	    "closed" : "opened");
	out->web_url = malloc(strlen(t->base) + strlen(out->key) + 16);
	if (out->web_url != NULL)
		sprintf(out->web_url, "%s/browse/%s", t->base, out->key);
	if ((s = json_str(f, "updated", 64)) != NULL)
		util_parse_time(s, &out->updated_at);
	if (out->title == NULL || out->description == NULL ||
	    out->state == NULL || out->state_group == NULL ||
	    out->state_class == NULL || out->web_url == NULL ||
	    tracker_issue_labels(out, cJSON_GetObjectItem(f, "labels")) == -1)
		goto fail;
	return 0;
fail:
	tracker_issue_release(out);
	return -1;
}

/*
 * The issue of answer j into out.  One that left the project (moved) is
 * gone for pbsync, as a 404: its new project is not this integration's.
 */
static enum http_err
answer_issue(struct tracker *t, const cJSON *j, struct tracker_issue *out)
{
	char		 pid[MAX_PROJECT], tid[MAX_PROJECT];
	const char	*in;

	if (split_project(t, pid, tid) == -1)
		return HTTP_EINTERNAL;
	if ((in = json_str(j, "fields.project.id", 32)) != NULL &&
	    strcmp(in, pid) != 0) {
		snprintf(t->up.err, sizeof(t->up.err), "jira: the issue moved "
		    "to another project");
		t->up.status = 404;
		return HTTP_ECLIENT;
	}
	if (read_issue(t, j, out) == -1) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "jira sent an issue without id or key");
		return HTTP_ESERVER;
	}
	return HTTP_OK;
}

/* GET of an issue, its answer kept in *raw if raw is not NULL. */
static enum http_err
get_issue(struct tracker *t, const char *ref, const char *expand,
    cJSON **raw, struct tracker_issue *out)
{
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e = HTTP_EINTERNAL;

	memset(out, 0, sizeof(*out));
	if (issue_url(t, &u, ref, "?fields=" FIELDS) == 0 &&
	    (expand == NULL || buf_printf(&u, "&expand=%s", expand) == 0))
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e == HTTP_OK)
		e = answer_issue(t, j, out);
	if (e == HTTP_OK && raw != NULL) {
		*raw = j;
		j = NULL;
	}
	cJSON_Delete(j);
	return e;
}

/*
 * The ref of issue n of the project: its key, which Jira takes for the
 * id; the issue read has its id for ref.
 */
static char *
ref_of(const struct tracker *t, const char *name, long long n)
{
	char	*ref;

	(void)t;
	return asprintf(&ref, "%s-%lld", name, n) == -1 ? NULL : ref;
}

/* An issue's page is its project's, "-" and its number: /browse/KEY-12. */
static const char *const issue_paths[] = { "-", NULL };

static enum http_err
get(struct tracker *t, const char *ref, struct tracker_issue *out)
{
	return get_issue(t, ref, NULL, NULL, out);
}

/* Summary: at most JIRA_MAX_SUMMARY characters, whole UTF-8 sequences. */
static char *
summary(struct tracker *t, const char *title)
{
	size_t	 i = 0, chars = 0;

	while (title[i] != '\0' && chars < JIRA_MAX_SUMMARY) {
		i++;
		while (((unsigned char)title[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	if (title[i] != '\0')
		adapted(t, "summary cut to 255 characters");
	return strndup(title, i);
}

/* Adds a description (ADF as JSON text) to fields: 0 or -1. */
static int
add_description(cJSON *fields, const char *adf)
{
	cJSON	*d = cJSON_Parse(adf);

	if (!cJSON_IsObject(d)) {
		cJSON_Delete(d);
		return -1;
	}
	cJSON_AddItemToObject(fields, "description", d);
	return 0;
}

static enum http_err
create(struct tracker *t, const char *title, const char *description,
    const char *labels, struct tracker_issue *out)
{
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject(), *f, *j = NULL, *a;
	char		 pid[MAX_PROJECT], tid[MAX_PROJECT], *s;
	char		*id = NULL;
	enum http_err	 e = HTTP_EINTERNAL;

	memset(out, 0, sizeof(*out));
	t->adapted[0] = '\0';
	s = summary(t, title);
	buf_init(&u, 16);
	if (b == NULL || s == NULL || split_project(t, pid, tid) == -1 ||
	    (f = cJSON_AddObjectToObject(b, "fields")) == NULL ||
	    cJSON_AddStringToObject(cJSON_AddObjectToObject(f, "project"),
	    "id", pid) == NULL ||
	    cJSON_AddStringToObject(cJSON_AddObjectToObject(f, "issuetype"),
	    "id", tid) == NULL ||
	    cJSON_AddStringToObject(f, "summary", s) == NULL ||
	    add_description(f, description) == -1 ||
	    (a = cJSON_AddArrayToObject(f, "labels")) == NULL ||
	    add_labels(t, a, labels, NULL) == -1 ||
	    api_url(t, &u, "/issue") == -1)
		goto out;
	e = upstream_call(&t->up, "POST", buf_str(&u), b, &j);
	if (e == HTTP_OK && id_text(j, "id", &id) == -1) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "jira answered a create without an id");
		e = HTTP_ESERVER;
	}
	/* The create answers {id, key, self}: the issue itself is a read. */
	if (e == HTTP_OK)
		e = get(t, id, out);
out:
	buf_release(&u);
	cJSON_Delete(b);
	cJSON_Delete(j);
	free(s);
	free(id);
	return e;
}

/*
 * The transition towards state among those the issue's workflow allows
 * now (read with the issue, so a workflow changed since the last write
 * is seen): the status of that name, or for pbsync's classes one of the
 * category done ("closed"), else of work in progress before to-do
 * ("opened").  NULL when there is none.
 */
static const char *
pick_transition(const cJSON *ts, const char *state)
{
	static const char *const order[] = { "indeterminate", "new" };
	const cJSON	*it;
	const char	*cat;
	size_t		 k;

	cJSON_ArrayForEach(it, ts)
		if (strcasecmp(str_of(it, "to.name", 255),
		    state) == 0)
			return json_str(it, "id", 32);
	for (k = 0; k < 2; k++)
		cJSON_ArrayForEach(it, ts) {
			cat = str_of(it, "to.statusCategory.key",
			    32);
			if (strcmp(state, "closed") == 0 ?
			    k == 0 && strcmp(cat, "done") == 0 :
			    strcmp(state, "opened") == 0 &&
			    strcmp(cat, order[k]) == 0)
				return json_str(it, "id", 32);
		}
	return NULL;
}

/* 1 if the issue is where state says already. */
static int
in_state(const struct tracker_issue *i, const char *state)
{
	return strcasecmp(i->state, state) == 0 ||
	    strcmp(tracker_issue_class(i), state) == 0;
}

/* Moves the issue towards state (transitions of issue-group issues). */
static enum http_err
transition(struct tracker *t, const char *ref, const char *state)
{
	struct tracker_issue now;
	struct buf	 u;
	cJSON		*raw = NULL, *b;
	const char	*id;
	enum http_err	 e;
	int		 tries;

	for (tries = 0; tries < 2; tries++) {
		if ((e = get_issue(t, ref, "transitions", &raw, &now)) !=
		    HTTP_OK)
			return e;
		if (in_state(&now, state)) {
			tracker_issue_release(&now);
			cJSON_Delete(raw);
			return HTTP_OK;
		}
		id = pick_transition(cJSON_GetObjectItem(raw, "transitions"),
		    state);
		if (id == NULL) {
			snprintf(t->up.err, sizeof(t->up.err), "jira: the "
			    "workflow has no transition from \"%.60s\" to "
			    "\"%.60s\"", now.state, state);
			t->up.status = 409;
			tracker_issue_release(&now);
			cJSON_Delete(raw);
			return HTTP_ECLIENT;
		}
		tracker_issue_release(&now);
		b = cJSON_CreateObject();
		e = HTTP_EINTERNAL;
		if (b != NULL && cJSON_AddStringToObject(
		    cJSON_AddObjectToObject(b, "transition"), "id", id) !=
		    NULL && issue_url(t, &u, ref, "/transitions") == 0)
			e = upstream_call(&t->up, "POST", buf_str(&u), b, NULL);
		buf_release(&u);
		cJSON_Delete(b);
		cJSON_Delete(raw);
		raw = NULL;
		/* A 400: the workflow changed between the read and the POST. */
		if (!(e == HTTP_ECLIENT && t->up.status == 400))
			return e;
	}
	return e;
}

/*
 * The transition, then a PUT for summary, description and labels (labels
 * by add and remove operations, so a person's labels stay) that answers
 * with the issue as that PUT left it (returnIssue): a read after it could
 * hold a person's edit made in between.  Only a transition: the issue is
 * read after it (the engine checks the state it finds, tracker.h).
 */
static enum http_err
edit(struct tracker *t, const char *ref, const struct tracker_edit *ed,
    struct tracker_issue *out)
{
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject(), *f, *up, *l, *j = NULL;
	char		*s = NULL;
	enum http_err	 e = HTTP_EINTERNAL;

	memset(out, 0, sizeof(*out));
	t->adapted[0] = '\0';
	buf_init(&u, 16);
	if (b == NULL || (f = cJSON_AddObjectToObject(b, "fields")) == NULL ||
	    (up = cJSON_AddObjectToObject(b, "update")) == NULL)
		goto out;
	if (ed->title != NULL && ((s = summary(t, ed->title)) == NULL ||
	    cJSON_AddStringToObject(f, "summary", s) == NULL))
		goto out;
	if (ed->description != NULL &&
	    add_description(f, ed->description) == -1)
		goto out;
	if ((ed->add_labels != NULL || ed->remove_labels != NULL) &&
	    ((l = cJSON_AddArrayToObject(up, "labels")) == NULL ||
	    add_labels(t, l, ed->add_labels, "add") == -1 ||
	    add_labels(t, l, ed->remove_labels, "remove") == -1))
		goto out;
	if (ed->state != NULL && (e = transition(t, ref, ed->state)) !=
	    HTTP_OK)
		goto out;
	if (cJSON_GetArraySize(f) == 0 &&
	    cJSON_GetArraySize(cJSON_GetObjectItem(up, "labels")) == 0) {
		e = get(t, ref, out);
		goto out;
	}
	if (cJSON_GetArraySize(up) == 0)
		cJSON_DeleteItemFromObject(b, "update");
	e = issue_url(t, &u, ref, "?returnIssue=true") == -1 ?
	    HTTP_EINTERNAL : upstream_call(&t->up, "PUT", buf_str(&u), b, &j);
	if (e == HTTP_OK)
		e = answer_issue(t, j, out);
out:
	buf_release(&u);
	cJSON_Delete(b);
	cJSON_Delete(j);
	free(s);
	return e;
}

/* The token's user (GET /myself, accountId), asked once. */
static enum http_err
self(struct tracker *t)
{
	struct buf	 u;
	cJSON		*j = NULL;
	const char	*s;
	enum http_err	 e = HTTP_EINTERNAL;

	if (t->self_id != NULL)
		return HTTP_OK;
	if (api_url(t, &u, "/myself") == 0)
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e == HTTP_OK && ((s = json_str(j, "accountId", 128)) == NULL ||
	    (t->self_id = strdup(s)) == NULL)) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "jira answered /myself without an account id");
		e = HTTP_ESERVER;
	}
	cJSON_Delete(j);
	return e;
}

/* One page of the marker search; *next gets the next page's token. */
static enum http_err
search_page(struct tracker *t, const char *jql, char **next, cJSON **out)
{
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject(), *fl;
	const char	*tok;
	enum http_err	 e = HTTP_EINTERNAL;

	*out = NULL;
	if (b != NULL && cJSON_AddStringToObject(b, "jql", jql) != NULL &&
	    (fl = cJSON_AddArrayToObject(b, "fields")) != NULL &&
	    cJSON_AddNumberToObject(b, "maxResults", 50) != NULL &&
	    (*next == NULL || cJSON_AddStringToObject(b, "nextPageToken",
	    *next) != NULL) && api_url(t, &u, "/search/jql") == 0) {
		cJSON_AddItemToArray(fl, cJSON_CreateString("*navigable"));
		e = upstream_call(&t->up, "POST", buf_str(&u), b, out);
	}
	buf_release(&u);
	cJSON_Delete(b);
	free(*next);
	*next = NULL;
	if (e == HTTP_OK && !cJSON_IsTrue(cJSON_GetObjectItem(*out,
	    "isLast")) && (tok = json_str(*out, "nextPageToken", 4096)) !=
	    NULL && (*next = strdup(tok)) == NULL)
		e = HTTP_EINTERNAL;
	return e;
}

/*
 * The marker search (search/jql): the project's issues whose text has
 * the marker as a phrase, newest first, then an exact look at each one's
 * footer.  Jira's index follows writes with a lag, so an issue created a
 * moment ago may be found only by a later reconcile.
 */
/* An issue whose description's footer names the marker. */
static int
names_marker(const cJSON *item, const char *marker)
{
	char	*d = cJSON_PrintUnformatted(json_get(item,
		    "fields.description"));
	int	 yes = d != NULL && adf_marker_find(d, strlen(d), marker);

	cJSON_free(d);
	return yes;
}

static enum http_err
find_marker(struct tracker *t, const char *marker, const char *moved_to,
    struct tracker_issue *out)
{
	const struct tracker_pick pick = { marker, names_marker, read_issue,
	    NULL, NULL };
	cJSON		*j = NULL;
	char		 pid[MAX_PROJECT], tid[MAX_PROJECT], jql[512];
	char		*next = NULL;
	enum http_err	 e;
	int		 page;

	memset(out, 0, sizeof(*out));
	/* A moved issue keeps its id but leaves the project. */
	if (moved_to != NULL)
		return HTTP_OK;
	if (split_project(t, pid, tid) == -1 ||
	    strspn(marker, "abcdefghijklmnopqrstuvwxyz0123456789:=-") !=
	    strlen(marker))
		return HTTP_EINTERNAL;
	if ((e = self(t)) != HTTP_OK)
		return e;
	snprintf(jql, sizeof(jql), "project = %s AND text ~ \"\\\"%s\\\"\" "
	    "ORDER BY created DESC", pid, marker);
	for (page = 0; page < MAX_PAGES && out->id == NULL; page++) {
		if ((e = search_page(t, jql, &next, &j)) != HTTP_OK)
			break;
		if (tracker_pick_marked(t, cJSON_GetObjectItem(j, "issues"),
		    &pick, out) == -1)
			e = HTTP_ESERVER;
		cJSON_Delete(j);
		j = NULL;
		if (e != HTTP_OK || next == NULL)
			break;
	}
	free(next);
	return e;
}

static int
hook_url(const struct tracker *t, struct buf *b, const char *id)
{
	buf_init(b, 8192);
	if (buf_printf(b, "%s/rest/webhooks/1.0/webhook", t->base) == -1)
		return -1;
	return id == NULL ? 0 : buf_putc(b, '/') == -1 ? -1 :
	    http_escape_segment(b, id);
}

/* The JQL filter of the webhook of the project kept: 0 or -1. */
static int
hook_filter(const char *kept, char *out, size_t len)
{
	char	 pid[MAX_PROJECT], tid[MAX_PROJECT];

	if (split_kept(kept, pid, tid) == -1)
		return -1;
	snprintf(out, len, "project = %s", pid);
	return 0;
}

/*
 * An admin webhook as a Jira administrator makes it in Jira's settings
 * (webhooks, "Registering a webhook using the Jira administration
 * console"): the events of hook_create, its filter, a body.
 */
static int
hook_by_hand(const char *kept, struct tracker_hook_setup *h)
{
	h->where = "Jira settings (the cog), System, WebHooks, Create a "
	    "WebHook";
	h->events = "Issue: created, updated, deleted";
	h->body = "Exclude body: not ticked";
	return hook_filter(kept, h->filter, sizeof(h->filter));
}

/*
 * An admin webhook (webhooks: "Registering a webhook via the Jira REST
 * API") for the project's issue events, with a secret: Jira signs each
 * delivery with X-Hub-Signature.  Only a Jira administrator may.
 */
static enum http_err
hook_create(struct tracker *t, const char *url, const char *secret,
    char **id)
{
	static const char *const events[] = { "jira:issue_created",
	    "jira:issue_updated", "jira:issue_deleted" };
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject(), *j = NULL, *ev;
	char		 jql[96];
	const char	*self, *slash;
	enum http_err	 e = HTTP_EINTERNAL;
	size_t		 i;

	*id = NULL;
	buf_init(&u, 16);
	if (b == NULL || hook_filter(t->project, jql, sizeof(jql)) == -1 ||
	    (ev = cJSON_AddArrayToObject(b, "events")) == NULL ||
	    hook_url(t, &u, NULL) == -1)
		goto out;
	cJSON_AddStringToObject(b, "name", "pbsync");
	cJSON_AddStringToObject(b, "url", url);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		cJSON_AddItemToArray(ev, cJSON_CreateString(events[i]));
	cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "filters"),
	    HOOK_FILTER, jql);
	cJSON_AddFalseToObject(b, "excludeBody");
	cJSON_AddStringToObject(b, "secret", secret);
	t->up.hide = secret;
	e = upstream_call(&t->up, "POST", buf_str(&u), b, &j);
	t->up.hide = NULL;
	/* The answer names the webhook by its URL: ".../webhook/<id>". */
	if (e == HTTP_OK && ((self = json_str(j, "self", 2048)) == NULL ||
	    (slash = strrchr(self, '/')) == NULL ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
	    slash[1] == '\0' || (*id = strdup(slash + 1)) == NULL)) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "jira answered the webhook without its id");
		e = HTTP_ESERVER;
	}
out:
	buf_release(&u);
	cJSON_Delete(b);
	cJSON_Delete(j);
	return e;
}

static enum http_err
hook_delete(struct tracker *t, const char *id)
{
	struct buf	 u;
	enum http_err	 e = HTTP_EINTERNAL;

	if (hook_url(t, &u, id) == 0)
		e = upstream_call(&t->up, "DELETE", buf_str(&u), NULL, NULL);
	buf_release(&u);
	return e;
}

static enum http_err
hook_exists(struct tracker *t, const char *id, int *active)
{
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e = HTTP_EINTERNAL;

	*active = 0;
	if (hook_url(t, &u, id) == 0)
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e == HTTP_OK)
		*active = !cJSON_IsFalse(cJSON_GetObjectItem(j, "enabled"));
	cJSON_Delete(j);
	return e;
}

/*
 * The statuses of the workflow of the project's issue type, from each
 * issue type's statuses ("Get all statuses for project").
 */
static enum http_err
statuses(struct tracker *t, cJSON **out)
{
	struct buf	 u;
	cJSON		*j = NULL, *o;
	const cJSON	*it, *st, *type = NULL;
	const char	*name;
	char		 pid[MAX_PROJECT], tid[MAX_PROJECT];
	enum http_err	 e = HTTP_EINTERNAL;

	*out = NULL;
	buf_init(&u, 16);
	if (split_project(t, pid, tid) == 0 &&
	    api_url(t, &u, "/project/") == 0 &&
	    http_escape_segment(&u, pid) == 0 &&
	    buf_puts(&u, "/statuses") == 0)
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e != HTTP_OK)
		goto out;
	cJSON_ArrayForEach(it, j)
		if (type == NULL && strcmp(str_of(it, "id",
		    MAX_PROJECT), tid) == 0)
			type = it;
	if (type == NULL) {
		snprintf(t->up.err, sizeof(t->up.err), "jira lists no "
		    "statuses for the issue type %s of the project", tid);
		e = HTTP_ESERVER;
		goto out;
	}
	if ((*out = cJSON_CreateArray()) == NULL) {
		e = HTTP_EINTERNAL;
		goto out;
	}
	cJSON_ArrayForEach(st, cJSON_GetObjectItem(type, "statuses")) {
		if ((name = json_str(st, "name", 255)) == NULL ||
		    (o = cJSON_CreateObject()) == NULL)
			continue;
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "group", str_of(st,
		    "statusCategory.key", 32));
		cJSON_AddStringToObject(o, "group_name", str_of(st,
		    "statusCategory.name", 64));
		cJSON_AddItemToArray(*out, o);
	}
out:
	cJSON_Delete(j);
	return e;
}

/* A project key or id: letters, digits and '_'; 0 or -1. */
static int
project_ref_ok(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && n <= 32 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") == n ? 0 : -1;
}

/* The id of the project's issue type named (or of that id) want. */
static enum http_err
issue_type(struct tracker *t, const char *pid, const char *want,
    char tid[MAX_PROJECT], char *name, size_t len)
{
	struct buf	 u;
	cJSON		*j = NULL;
	const cJSON	*it, *list;
	const char	*id, *n;
	enum http_err	 e = HTTP_EINTERNAL;

	*tid = '\0';
	if (api_url(t, &u, "/issue/createmeta/") == 0 &&
	    http_escape_segment(&u, pid) == 0 &&
	    buf_puts(&u, "/issuetypes?maxResults=200") == 0)
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e != HTTP_OK)
		goto out;
	/* issueTypes (createmeta since 2023), values in older answers. */
	if ((list = cJSON_GetObjectItem(j, "issueTypes")) == NULL)
		list = cJSON_GetObjectItem(j, "values");
	cJSON_ArrayForEach(it, list) {
		id = json_str(it, "id", MAX_PROJECT - 1);
		n = json_str(it, "name", 255);
		if (id != NULL && n != NULL && (strcasecmp(n, want) == 0 ||
		    strcmp(id, want) == 0)) {
			snprintf(tid, MAX_PROJECT, "%s", id);
			snprintf(name, len, "%s", n);
			break;
		}
	}
	if (*tid == '\0') {
		snprintf(t->up.err, sizeof(t->up.err), "The Jira project "
		    "has no issue type \"%.60s\" that the account may create",
		    want);
		t->up.status = 422;
		e = HTTP_ECLIENT;
	}
out:
	cJSON_Delete(j);
	return e;
}

/* Create, edit and transition issues in the project: 1, 0, or -1. */
static int
can_write(struct tracker *t, const char *pid)
{
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e = HTTP_EINTERNAL;
	int		 ok;

	if (api_url(t, &u, "/mypermissions?permissions=CREATE_ISSUES,"
	    "EDIT_ISSUES,TRANSITION_ISSUES&projectId=") == 0 &&
	    http_escape_segment(&u, pid) == 0)
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	ok = cJSON_IsTrue(json_get(j,
	    "permissions.CREATE_ISSUES.havePermission")) &&
	    cJSON_IsTrue(json_get(j,
	    "permissions.EDIT_ISSUES.havePermission")) &&
	    cJSON_IsTrue(json_get(j,
	    "permissions.TRANSITION_ISSUES.havePermission"));
	cJSON_Delete(j);
	return e != HTTP_OK ? -1 : ok;
}

/*
 * The project the admin named (key or id) and the issue type of its
 * setting, or the project as the backend keeps it ("<project id>:<issue
 * type id>", when a token is checked again); webhooks are a Jira
 * administrator's: a list call says.
 */
static enum http_err
project(struct tracker *t, const char *kept, struct tracker_project *p)
{
	struct buf	 u;
	cJSON		*j = NULL;
	const char	*pid, *key, *type = tracker_option(t, "issue_type");
	const char	*colon = strchr(kept, ':');
	char		 tid[MAX_PROJECT], tname[256], v[2 * MAX_PROJECT + 2];
	char		 given[MAX_PROJECT];
	enum http_err	 e;
	int		 w;

	snprintf(given, sizeof(given), "%.*s", colon != NULL ?
	    (int)(colon - kept) : (int)strlen(kept), kept);
	if (colon != NULL)
		type = colon + 1;
	if (project_ref_ok(given) == -1) {
		snprintf(t->up.err, sizeof(t->up.err), "jira: \"%s\" is not "
		    "a project key", given);
		t->up.status = 404;
		return HTTP_ECLIENT;
	}
	/* A wrong token is anonymous to Jira: /myself says 401. */
	if ((e = self(t)) != HTTP_OK)
		return e;
	e = HTTP_EINTERNAL;
	if (api_url(t, &u, "/project/") == 0 &&
	    http_escape_segment(&u, given) == 0)
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e != HTTP_OK)
		goto out;
	if ((pid = json_str(j, "id", MAX_PROJECT - 1)) == NULL ||
	    (key = json_str(j, "key", 64)) == NULL) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "jira sent a project without id or key");
		e = HTTP_ESERVER;
		goto out;
	}
	if ((e = issue_type(t, pid, type, tid, tname, sizeof(tname))) !=
	    HTTP_OK)
		goto out;
	if ((w = can_write(t, pid)) == -1) {
		e = HTTP_ESERVER;
		goto out;
	}
	snprintf(v, sizeof(v), "%s:%s", pid, tid);
	p->id = strdup(v);
	p->name = strdup(key);
	if ((p->web_url = malloc(strlen(t->base) + strlen(key) + 16)) != NULL)
		sprintf(p->web_url, "%s/browse/%s", t->base, key);
	if (p->id == NULL || p->name == NULL || p->web_url == NULL) {
		tracker_project_release(p);
		e = HTTP_EINTERNAL;
		goto out;
	}
	p->can_write = w;
	if (hook_url(t, &u, NULL) == 0)
		p->can_hook = upstream_call(&t->up, "GET", buf_str(&u), NULL,
		    NULL) == HTTP_OK;
	buf_release(&u);
out:
	cJSON_Delete(j);
	return e;
}

/* Every delivery is an issue event: the body says which. */
static int
relevant(const struct tracker_hook_in *in)
{
	(void)in;
	return 1;
}

/* jira:issue_created, _updated, _deleted (webhooks, "Example callback"). */
static int
decode(const struct tracker_hook_in *in, struct tracker_delivery *d)
{
	cJSON		*j;
	const char	*event;
	char		*id = NULL;

	memset(d, 0, sizeof(*d));
	if ((j = json_parse(in->body, in->len)) == NULL) {
		d->error = "malformed JSON";
		goto out;
	}
	if ((event = json_str(j, "webhookEvent", 64)) == NULL) {
		d->error = "webhookEvent missing";
		goto out;
	}
	if (strncmp(event, "jira:issue_", 11) != 0)
		goto out;
	if (id_text(j, "issue.id", &id) == -1 || strlen(id) >= sizeof(d->id)) {
		d->error = "issue.id missing";
		goto out;
	}
	memcpy(d->id, id, strlen(id) + 1);
	d->deleted = strcmp(event, "jira:issue_deleted") == 0;
	tracker_delivery_key(d, in->param(in->arg,
	    "HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER"));
	d->relevant = 1;
out:
	free(id);
	cJSON_Delete(j);
	return d->error != NULL ? -1 : 0;
}

const struct tracker_ops jira_ops = {
	.kind = "jira",
	.title = "Jira",
	.url_default = "https://your-site.atlassian.net",
	.url_label = "Jira site URL",
	.project_label = "Project key",
	.token_label = "API token of the account (id.atlassian.com, "
	    "Security, API tokens)",
	.need_write = "The Jira account cannot create, edit and transition "
	    "issues (Create, Edit and Transition issues permissions) in",
	.need_hook = "The Jira account is not a Jira administrator, who "
	    "alone may register webhooks, for",
	.states = NULL,
	.options = options,
	.statuses = statuses,
	.open = open_jira,
	.project = project,
	.create = create,
	.get = get,
	.edit = edit,
	.find_marker = find_marker,
	.hook_create = hook_create,
	.hook_delete = hook_delete,
	.hook_by_hand = hook_by_hand,
	.hook_exists = hook_exists,
	.from_html = adf_from_html,
	.to_html = adf_to_html,
	.footer_append = adf_marker_append,
	.footer_strip = adf_marker_strip,
	.max_title = JIRA_MAX_SUMMARY,
	.reads_back = 1,
	.max_description = MAX_DESCRIPTION,
	.issue_paths = issue_paths,
	.ref_sep = '-',
	.ref_of = ref_of,
	.auth = TRACKER_AUTH_HMAC_SHA256,
	.auth_header = "HTTP_X_HUB_SIGNATURE",
	.relevant = relevant,
	.decode = decode,
};
