/*
 * mem_jira: the issue pbsync made, as Jira Cloud's REST API v3 shows it
 * (the shapes of tests/doubles/jiradouble.py and of the vendor's pages:
 * issue-group "Get issue", "Edit issue", "Transition issue", "Create
 * issue", search/jql, /myself), and the webhook deliveries Jira sends for
 * every change: jira:issue_created and jira:issue_updated, signed with
 * X-Hub-Signature (HMAC-SHA256 of the body, "sha256=" and hex) and named
 * by X-Atlassian-Webhook-Identifier, the same on a retry.
 *
 * The workflow is the simplest Jira has: three statuses, "To Do" (status
 * category new), "In Progress" (indeterminate) and "Done" (done), each
 * reachable from the others by a global transition.  A transition the
 * issue's status does not offer is answered 400, as Jira does, and noted:
 * nobody changes the workflow here, so pbsync picked one it was not
 * offered.  Descriptions are ADF documents: pbsync's are kept as the JSON
 * it sent, a person's are made by adf_from_html() from the person's HTML,
 * with pbsync's footer (the nodes from its rule on) kept below.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "convert/adf.h"
#include "world.h"

#define API		"/rest/api/3"
#define ISSUE_ID	"9001"
#define ISSUE_KEY	W_JIRA_KEY "-7"
#define ISSUE_SELF	W_TR_URL API "/issue/" ISSUE_ID
#define MAX_SUMMARY	255

/* The workflow: status, its id, its category, the transition to it. */
static const struct status {
	const char	*name, *id, *category, *transition;
} statuses[] = {
	{ "To Do", "10000", "new", "11" },
	{ "In Progress", "3", "indeterminate", "21" },
	{ "Done", "10001", "done", "31" },
};
#define NSTATUS	(sizeof(statuses) / sizeof(statuses[0]))

static const struct status *
status_named(const char *name)
{
	size_t	 i;

	for (i = 0; i < NSTATUS; i++)
		if (strcmp(statuses[i].name, name) == 0)
			return &statuses[i];
	return NULL;
}

static cJSON *
status_json(const struct status *st)
{
	cJSON	*s = cJSON_CreateObject(), *c;

	cJSON_AddStringToObject(s, "id", st->id);
	cJSON_AddStringToObject(s, "name", st->name);
	c = cJSON_AddObjectToObject(s, "statusCategory");
	cJSON_AddStringToObject(c, "key", st->category);
	return s;
}

/* 1 if the comma-separated list of fields asked for (NULL: all) has f. */
static int
asked(const char *list, const char *f)
{
	size_t		 n = strlen(f);
	const char	*p;

	if (list == NULL || strstr(list, "*all") != NULL ||
	    strstr(list, "*navigable") != NULL)
		return 1;
	for (p = list; (p = strstr(p, f)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' ||
		    p[n] == '\0' || p[n] == '&'))
			return 1;
	return 0;
}

/*
 * The issue as "Get issue" answers it: the fields asked for, and with
 * transitions the ones its status offers (all global: to every other).
 */
static cJSON *
issue(const struct world *w, const char *fields, int transitions)
{
	cJSON	*j = cJSON_CreateObject(), *f, *o, *ts, *t;
	const struct status *st = status_named(w->i.state);
	char	 time[40];
	size_t	 k;

	world_time(w->i.updated, 2, time, sizeof(time));
	cJSON_AddStringToObject(j, "id", ISSUE_ID);
	cJSON_AddStringToObject(j, "key", ISSUE_KEY);
	cJSON_AddStringToObject(j, "self", ISSUE_SELF);
	f = cJSON_AddObjectToObject(j, "fields");
	if (asked(fields, "summary"))
		cJSON_AddStringToObject(f, "summary", w->i.title);
	if (asked(fields, "description")) {
		if (w->i.desc[0] == '\0' ||
		    (o = cJSON_Parse(w->i.desc)) == NULL)
			cJSON_AddNullToObject(f, "description");
		else
			cJSON_AddItemToObject(f, "description", o);
	}
	if (asked(fields, "status") && st != NULL)
		cJSON_AddItemToObject(f, "status", status_json(st));
	if (asked(fields, "labels"))
		cJSON_AddArrayToObject(f, "labels");
	if (asked(fields, "updated"))
		cJSON_AddStringToObject(f, "updated", time);
	if (asked(fields, "reporter"))
		cJSON_AddStringToObject(cJSON_AddObjectToObject(f, "reporter"),
		    "accountId", W_JIRA_SELF);
	if (asked(fields, "project")) {
		o = cJSON_AddObjectToObject(f, "project");
		cJSON_AddStringToObject(o, "id", W_JIRA_PROJECT);
		cJSON_AddStringToObject(o, "key", W_JIRA_KEY);
	}
	if (!transitions)
		return j;
	ts = cJSON_AddArrayToObject(j, "transitions");
	for (k = 0; k < NSTATUS; k++) {
		if (&statuses[k] == st)
			continue;
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "id", statuses[k].transition);
		cJSON_AddStringToObject(t, "name", statuses[k].name);
		cJSON_AddItemToObject(t, "to", status_json(&statuses[k]));
		cJSON_AddTrueToObject(t, "isGlobal");
		cJSON_AddItemToArray(ts, t);
	}
	return j;
}

/* The delivery Jira sends for any change of the issue. */
static void
changed(struct world *w, const char *event, int echo)
{
	cJSON	*b = cJSON_CreateObject(), *i, *f;
	char	 key[40], auth[80], time[40], *text;

	w->i.updated = ++w->now;
	snprintf(key, sizeof(key), "00000000-0000-4000-8000-%012u",
	    ++w->serial);
	world_time(w->i.updated, 2, time, sizeof(time));
	cJSON_AddNumberToObject(b, "timestamp", (WORLD_T0 + (double)w->now) *
	    1000);
	cJSON_AddStringToObject(b, "webhookEvent", event);
	cJSON_AddStringToObject(b, "issue_event_type_name",
	    strcmp(event, "jira:issue_created") == 0 ? "issue_created" :
	    "issue_generic");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "user"),
	    "accountId", echo ? W_JIRA_SELF : "person-of-the-model");
	i = cJSON_AddObjectToObject(b, "issue");
	cJSON_AddStringToObject(i, "id", ISSUE_ID);
	cJSON_AddStringToObject(i, "key", ISSUE_KEY);
	f = cJSON_AddObjectToObject(i, "fields");
	cJSON_AddStringToObject(f, "summary", w->i.title);
	if (status_named(w->i.state) != NULL)
		cJSON_AddItemToObject(f, "status",
		    status_json(status_named(w->i.state)));
	cJSON_AddStringToObject(f, "updated", time);
	if ((text = cJSON_PrintUnformatted(b)) == NULL) {
		w->lost_pool++;
		cJSON_Delete(b);
		return;
	}
	memcpy(auth, "sha256=", 8);
	crypto_hmac_sha256_hex(W_TRHOOK_SECRET, text, strlen(text), auth + 7);
	world_send(w, SIDE_TR, key, auth, text, echo);
	cJSON_free(text);
	cJSON_Delete(b);
}

/* Notes a call Jira would refuse (400): what pbsync sent was wrong. */
static int
refused(struct world *w, const char *what, cJSON **out)
{
	if (w->unexpected++ == 0)
		snprintf(w->what, sizeof(w->what), "jira refused %s", what);
	*out = cJSON_Parse("{\"errorMessages\":[],\"errors\":{}}");
	return 400;
}

/* The id of o's member (o's own with NULL): {"id": "..."}, or NULL. */
static const cJSON *
id_of(const cJSON *o, const char *member)
{
	if (member != NULL)
		o = cJSON_GetObjectItem(o, member);
	return cJSON_GetObjectItem(o, "id");
}

/* 1 if o has no member but those named (NULL-terminated). */
static int
only(const cJSON *o, const char *const *names)
{
	const cJSON	*it;
	size_t		 k;

	cJSON_ArrayForEach(it, o) {
		for (k = 0; names[k] != NULL; k++)
			if (it->string != NULL &&
			    strcmp(it->string, names[k]) == 0)
				break;
		if (names[k] == NULL)
			return 0;
	}
	return 1;
}

/*
 * The description of a request as Jira keeps it: an ADF document (the
 * top of it: version 1, type doc, an array of content), as the JSON text
 * pbsync sent, or "" for null.  0, or -1 when it is not one.
 */
static int
take_doc(const cJSON *d, char *dst, size_t len, int *changed_it)
{
	char	*text;
	int	 rc = -1;

	*changed_it = 0;
	if (d == NULL)
		return 0;
	if (cJSON_IsNull(d)) {
		*changed_it = dst[0] != '\0';
		dst[0] = '\0';
		return 0;
	}
	if (!cJSON_IsObject(d) || cJSON_GetNumberValue(cJSON_GetObjectItem(d,
	    "version")) != 1 || strcmp(cJSON_GetStringValue(
	    cJSON_GetObjectItem(d, "type")) ? cJSON_GetStringValue(
	    cJSON_GetObjectItem(d, "type")) : "", "doc") != 0 ||
	    !cJSON_IsArray(cJSON_GetObjectItem(d, "content")) ||
	    (text = cJSON_PrintUnformatted(d)) == NULL)
		return -1;
	if (strlen(text) < len) {
		*changed_it = strcmp(dst, text) != 0;
		snprintf(dst, len, "%s", text);
		rc = 0;
	}
	cJSON_free(text);
	return rc;
}

/* 1 if labels is absent or an empty array (the model manages none). */
static int
no_labels(const cJSON *labels)
{
	return labels == NULL || (cJSON_IsArray(labels) &&
	    cJSON_GetArraySize(labels) == 0);
}

static int
summary_ok(const cJSON *s)
{
	return s == NULL || (cJSON_IsString(s) &&
	    strlen(s->valuestring) <= MAX_SUMMARY &&
	    s->valuestring[0] != '\0');
}

/* POST /issue: the one issue of the model, in the integration's project. */
static int
create(struct world *w, const cJSON *b, cJSON **out)
{
	static const char *const top[] = { "fields", "update", NULL };
	static const char *const known[] = { "project", "issuetype",
	    "summary", "description", "labels", NULL };
	const cJSON	*f = cJSON_GetObjectItem(b, "fields");
	const char	*p = cJSON_GetStringValue(id_of(f, "project")),
			*t = cJSON_GetStringValue(id_of(f, "issuetype"));
	int		 ch;

	if (w->i.exists)
		return world_unexpected(w, "POST", "a second issue", out);
	if (!cJSON_IsObject(f) || !only(b, top) || !only(f, known) ||
	    p == NULL || strcmp(p, W_JIRA_PROJECT) != 0 || t == NULL ||
	    strcmp(t, W_JIRA_TYPE) != 0 ||
	    !summary_ok(cJSON_GetObjectItem(f, "summary")) ||
	    cJSON_GetObjectItem(f, "summary") == NULL ||
	    !no_labels(cJSON_GetObjectItem(f, "labels")) ||
	    world_take(cJSON_GetObjectItem(f, "summary"), w->i.title,
	    sizeof(w->i.title)) < 0 ||
	    take_doc(cJSON_GetObjectItem(f, "description"), w->i.desc,
	    sizeof(w->i.desc), &ch) == -1)
		return refused(w, "the create of the issue", out);
	w->i.exists = 1;
	snprintf(w->i.state, sizeof(w->i.state), "%s", statuses[0].name);
	changed(w, "jira:issue_created", 1);
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "id", ISSUE_ID);
	cJSON_AddStringToObject(*out, "key", ISSUE_KEY);
	cJSON_AddStringToObject(*out, "self", ISSUE_SELF);
	return 201;
}

/*
 * PUT /issue/{id}: summary and description; labels only by update.  204,
 * or with ?returnIssue=true 200 and the issue as the edit left it.
 */
static int
edit(struct world *w, const cJSON *b, int answer, cJSON **out)
{
	static const char *const top[] = { "fields", "update", NULL };
	static const char *const known[] = { "summary", "description",
	    NULL };
	static const char *const ops[] = { "labels", NULL };
	const cJSON	*f = cJSON_GetObjectItem(b, "fields"),
			*u = cJSON_GetObjectItem(b, "update");
	int		 a, d;

	if (!w->i.exists)
		return world_unexpected(w, "PUT", "of no issue", out);
	/* No label is managed in the model's status map. */
	if (!only(b, top) || (f != NULL && (!cJSON_IsObject(f) ||
	    !only(f, known))) || (u != NULL && (!cJSON_IsObject(u) ||
	    !only(u, ops) || !no_labels(cJSON_GetObjectItem(u, "labels")))) ||
	    !summary_ok(cJSON_GetObjectItem(f, "summary")))
		return refused(w, "an edit of the issue", out);
	a = world_take(cJSON_GetObjectItem(f, "summary"), w->i.title,
	    sizeof(w->i.title));
	if (a < 0 || take_doc(cJSON_GetObjectItem(f, "description"),
	    w->i.desc, sizeof(w->i.desc), &d) == -1)
		return refused(w, "an edit's summary or description", out);
	w->tr_writes++;
	if (a + d == 0)
		w->noop_writes++;
	else
		changed(w, "jira:issue_updated", 1);
	if (!answer)
		return 204;
	*out = issue(w, NULL, 0);
	return 200;
}

/* POST /issue/{id}/transitions: to a status the current one offers. */
static int
transition(struct world *w, const cJSON *b, cJSON **out)
{
	static const char *const top[] = { "transition", NULL };
	const char	*id = cJSON_GetStringValue(id_of(
			    cJSON_GetObjectItem(b, "transition"), NULL));
	size_t		 k;

	if (!w->i.exists)
		return world_unexpected(w, "POST", "transition of no issue",
		    out);
	for (k = 0; id != NULL && only(b, top) && k < NSTATUS; k++)
		if (strcmp(statuses[k].transition, id) == 0 &&
		    strcmp(statuses[k].name, w->i.state) != 0)
			break;
	if (id == NULL || !only(b, top) || k == NSTATUS)
		return refused(w, "a transition the status does not offer",
		    out);
	snprintf(w->i.state, sizeof(w->i.state), "%s", statuses[k].name);
	w->tr_writes++;
	changed(w, "jira:issue_updated", 1);
	return 204;
}

/* POST /search/jql: the project's issues whose text has the phrase. */
static int
search(struct world *w, const cJSON *b, cJSON **out)
{
	const char	*jql = cJSON_GetStringValue(cJSON_GetObjectItem(b,
			    "jql"));
	const char	*m;
	char		 marker[128];
	size_t		 n;
	cJSON		*list;

	if (jql == NULL || strstr(jql, "project = " W_JIRA_PROJECT " ") ==
	    NULL || (m = strstr(jql, ADF_MARKER_PREFIX)) == NULL)
		return refused(w, "a search", out);
	n = strcspn(m, "\\\" ");
	snprintf(marker, sizeof(marker), "%.*s", (int)n, m);
	*out = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(*out, "issues");
	if (w->i.exists && strstr(w->i.desc, marker) != NULL)
		cJSON_AddItemToArray(list, issue(w, NULL, 0));
	cJSON_AddTrueToObject(*out, "isLast");
	return 200;
}

int
mem_jira_serve(struct world *w, const char *method, const char *path,
    const cJSON *body, cJSON **out)
{
	char		 p[256];
	const char	*q = strchr(path, '?'), *fields = NULL, *expand = NULL;
	size_t		 n = q != NULL ? (size_t)(q - path) : strlen(path);

	if (n >= sizeof(p))
		return world_unexpected(w, method, path, out);
	memcpy(p, path, n);
	p[n] = '\0';
	if (q != NULL) {
		fields = strstr(q, "fields=");
		expand = strstr(q, "expand=");
		fields = fields != NULL ? fields + 7 : NULL;
	}
	if (strcmp(p, API "/myself") == 0 && strcmp(method, "GET") == 0) {
		*out = cJSON_Parse("{\"accountId\":\"" W_JIRA_SELF "\","
		    "\"emailAddress\":\"" W_JIRA_EMAIL "\",\"active\":true}");
		return 200;
	}
	if (strcmp(p, API "/issue") == 0 && strcmp(method, "POST") == 0)
		return create(w, body, out);
	if (strcmp(p, API "/search/jql") == 0 && strcmp(method, "POST") == 0)
		return search(w, body, out);
	if (strcmp(p, API "/issue/" ISSUE_ID "/transitions") == 0 &&
	    strcmp(method, "POST") == 0)
		return transition(w, body, out);
	if (strcmp(p, API "/issue/" ISSUE_ID) != 0)
		return world_unexpected(w, method, path, out);
	if (strcmp(method, "GET") == 0 && w->i.exists) {
		*out = issue(w, fields, expand != NULL &&
		    strncmp(expand + 7, "transitions", 11) == 0);
		return 200;
	}
	if (strcmp(method, "PUT") == 0)
		return edit(w, body, q != NULL &&
		    strstr(q, "returnIssue=true") != NULL, out);
	return world_unexpected(w, method, path, out);
}

/*
 * A person writes text in the issue's description: the document of
 * "<p>text</p>" and below it pbsync's footer, the nodes from the first
 * rule of the old document on.
 */
static void
person_desc(struct world *w, const char *text)
{
	struct buf	 b;
	char		 html[WORLD_TEXT + 8], *s;
	cJSON		*doc = NULL, *old = cJSON_Parse(w->i.desc), *it, *next;
	int		 below = 0;

	buf_init(&b, WORLD_DESC);
	snprintf(html, sizeof(html), "<p>%s</p>", text);
	if (adf_from_html(html, strlen(html), &b) == -1 ||
	    (doc = cJSON_Parse(buf_str(&b))) == NULL)
		goto out;
	for (it = cJSON_GetArrayItem(cJSON_GetObjectItem(old, "content"), 0);
	    it != NULL; it = next) {
		next = it->next;
		below |= strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it,
		    "type")) ? cJSON_GetStringValue(cJSON_GetObjectItem(it,
		    "type")) : "", "rule") == 0;
		if (below)
			cJSON_AddItemToArray(cJSON_GetObjectItem(doc,
			    "content"), cJSON_DetachItemViaPointer(
			    cJSON_GetObjectItem(old, "content"), it));
	}
	if ((s = cJSON_PrintUnformatted(doc)) != NULL &&
	    strlen(s) < sizeof(w->i.desc))
		snprintf(w->i.desc, sizeof(w->i.desc), "%s", s);
	cJSON_free(s);
out:
	buf_release(&b);
	cJSON_Delete(doc);
	cJSON_Delete(old);
}

void
mem_jira_edit(struct world *w, enum world_field f, unsigned n)
{
	char	 text[WORLD_TEXT];
	const char *to;

	switch (f) {
	case F_NAME:
		snprintf(w->i.title, sizeof(w->i.title), "tr name %u", n);
		break;
	case F_DESC:
		snprintf(text, sizeof(text), "tr text %u", n);
		person_desc(w, text);
		break;
	default:
		/*
		 * Done reopens to either open status; an open issue is
		 * mostly done, and one edit in four moves it to the other
		 * open status: a change of state that is none of class.
		 */
		if (strcmp(w->i.state, "Done") == 0)
			to = n % 2 ? "To Do" : "In Progress";
		else if (n % 4 == 0)
			to = strcmp(w->i.state, "To Do") == 0 ?
			    "In Progress" : "To Do";
		else
			to = "Done";
		snprintf(w->i.state, sizeof(w->i.state), "%s", to);
		break;
	}
	changed(w, "jira:issue_updated", 0);
}

/* The text of one paragraph's inline nodes into out: 0, or -1. */
static int
paragraph_text(const cJSON *p, char *out, size_t len)
{
	const cJSON	*it;
	const char	*t;
	size_t		 n = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(p, "content")) {
		t = cJSON_GetStringValue(cJSON_GetObjectItem(it, "text"));
		if (t == NULL || strcmp(cJSON_GetStringValue(
		    cJSON_GetObjectItem(it, "type")) ?
		    cJSON_GetStringValue(cJSON_GetObjectItem(it, "type")) :
		    "", "text") != 0 || cJSON_GetObjectItem(it, "marks") ||
		    n + strlen(t) >= len)
			return -1;
		memcpy(out + n, t, strlen(t) + 1);
		n += strlen(t);
	}
	return 0;
}

void
mem_jira_desc_text(const char *desc, char *out, size_t len)
{
	cJSON		*d;
	const cJSON	*it;
	const char	*type;
	int		 paras = 0, bad = 0;

	out[0] = '\0';
	if (desc[0] == '\0')
		return;
	if ((d = cJSON_Parse(desc)) == NULL || !cJSON_IsArray(
	    cJSON_GetObjectItem(d, "content"))) {
		snprintf(out, len, "?%s", desc);
		cJSON_Delete(d);
		return;
	}
	/* A person's text is one plain paragraph; the footer starts at a
	   rule, and a snapshot has none. */
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(d, "content")) {
		type = cJSON_GetStringValue(cJSON_GetObjectItem(it, "type"));
		if (type != NULL && strcmp(type, "rule") == 0)
			break;
		if (type == NULL || strcmp(type, "paragraph") != 0 ||
		    paras++ > 0 || paragraph_text(it, out, len) == -1)
			bad = 1;
	}
	if (bad)
		snprintf(out, len, "?%s", desc);
	cJSON_Delete(d);
}
