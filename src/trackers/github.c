#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "base/util.h"
#include "convert/html2md.h"
#include "convert/md2html.h"
#include "trackers/github.h"
#include "trackers/marker.h"

#define MAX_TITLE	256
#define MAX_BODY	65536

static int
open_github(struct tracker *t, struct app *a, const char *url,
    const char *token)
{
	if ((t->base = strdup(url)) == NULL)
		return -1;
	util_strip_trailing(t->base, '/');
	if (upstream_init(&t->up, a, "github", "Authorization: Bearer ", token,
	    GITHUB_RATE_PER_S) == -1) {
		free(t->base);
		t->base = NULL;
		return -1;
	}
	t->up.accept = "Accept: application/vnd.github+json";
	t->up.extra = "X-GitHub-Api-Version: " GITHUB_API_VERSION;
	t->up.rate_limited = github_rate_limited;
	return 0;
}

int
github_rate_limited(const struct http_resp *r)
{
	/* A 403 is a rate limit when it says so (rate-limits-for-the-rest-api). */
	static const char said[] = "rate limit";

	return r->status == 403 && (r->retry_after >= 0 ||
	    r->ratelimit_remaining == 0 || (r->body.data != NULL &&
	    memmem(r->body.data, r->body.len, said, sizeof(said) - 1) !=
	    NULL));
}

/* Reads a REST issue object (more-trackers.md §A.2). */
static int
read_issue(const struct tracker *t, const cJSON *j, struct tracker_issue *out)
{
	const char	*s;
	char		 v[320];

	memset(out, 0, sizeof(*out));
	if (tracker_json_id(j, "id", &out->id) == -1 ||
	    tracker_json_id(j, "number", &out->ref) == -1)
		goto fail;
	/* GitHub's own way to name an issue of a repository. */
	snprintf(v, sizeof(v), "%s#%s", t->project != NULL ? t->project : "",
	    out->ref);
	if ((out->key = strdup(v)) == NULL)
		goto fail;
	tracker_json_id(j, "user.id", &out->author);
	s = json_str(j, "title", MAX_TITLE * 4);
	out->title = strdup(s != NULL ? s : "");
	s = cJSON_GetStringValue(cJSON_GetObjectItem(j, "body"));
	out->description = strdup(s != NULL ? s : "");
	s = json_str(j, "state", 16);
	out->state = strdup(s != NULL && strcmp(s, "closed") == 0 ? "closed" :
	    "opened");
	out->web_url = strdup((s = json_str(j, "html_url", 2048)) ? s : "");
	if ((s = json_str(j, "updated_at", 64)) != NULL)
		util_parse_time(s, &out->updated_at);
	if (out->title == NULL || out->description == NULL ||
	    out->state == NULL || out->web_url == NULL ||
	    tracker_issue_labels(out, cJSON_GetObjectItem(j, "labels")) == -1)
		goto fail;
	return 0;
fail:
	tracker_issue_release(out);
	return -1;
}

/* "<base>/repos/<owner>/<repo><rest>"; the repository is kept escaped. */
static int
repo_url(struct tracker *t, struct buf *b, const char *rest)
{
	buf_init(b, 8192);
	if (t->project == NULL)
		return -1;
	return buf_printf(b, "%s/repos/%s%s", t->base, t->project, rest);
}

static int
issue_url(struct tracker *t, struct buf *b, const char *ref, const char *rest)
{
	char	*end;
	long long n = strtoll(ref != NULL ? ref : "", &end, 10);
	char	 path[96];

	if (n <= 0 || *end != '\0') {
		buf_init(b, 16);
		return -1;
	}
	snprintf(path, sizeof(path), "/issues/%lld%s", n, rest);
	return repo_url(t, b, path);
}

/*
 * Calls and reads an issue.  A transferred issue (301) or a deleted one
 * (410) has left the repository: for the flows it is gone, as a 404.
 */
static enum http_err
issue_call(struct tracker *t, const char *method, struct buf *u,
    const cJSON *body, struct tracker_issue *out)
{
	cJSON		*j = NULL;
	enum http_err	 e;

	e = upstream_call(&t->up, method, buf_str(u), body, &j);
	buf_release(u);
	if (e == HTTP_EREDIRECT || (e == HTTP_ECLIENT && t->up.status == 410)) {
		snprintf(t->up.err, sizeof(t->up.err), "github: the issue was "
		    "%s", e == HTTP_EREDIRECT ? "transferred" : "deleted");
		t->up.status = 404;
		e = HTTP_ECLIENT;
	}
	if (e == HTTP_OK && read_issue(t, j, out) == -1) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "github sent an issue without id or number");
		e = HTTP_ESERVER;
	}
	cJSON_Delete(j);
	return e;
}

/* Adds a comma-separated label list to b as an array: 0 or -1. */
static int
add_labels(cJSON *b, const char *key, const char *list)
{
	cJSON		*a = cJSON_AddArrayToObject(b, key);
	const char	*p = list, *c;
	char		*one;

	if (a == NULL)
		return -1;
	while (p != NULL && *p != '\0') {
		c = strchr(p, ',');
		if ((one = strndup(p, c != NULL ? (size_t)(c - p) :
		    strlen(p))) == NULL)
			return -1;
		if (*one != '\0')
			cJSON_AddItemToArray(a, cJSON_CreateString(one));
		free(one);
		p = c != NULL ? c + 1 : NULL;
	}
	return 0;
}

/* The title, cut to the 256 characters GitHub takes: 0 or -1. */
static int
add_title(cJSON *b, const char *title)
{
	char	*s = tracker_title_cut(&github_ops, title);
	int	 rc = s != NULL && cJSON_AddStringToObject(b, "title", s) !=
		    NULL ? 0 : -1;

	free(s);
	return rc;
}

static enum http_err
create(struct tracker *t, const char *title, const char *description,
    const char *labels, struct tracker_issue *out)
{
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject();
	enum http_err	 e;

	memset(out, 0, sizeof(*out));
	if (b == NULL || repo_url(t, &u, "/issues") == -1 ||
	    add_title(b, title) == -1 ||
	    cJSON_AddStringToObject(b, "body", description) == NULL ||
	    (labels != NULL && *labels != '\0' &&
	    add_labels(b, "labels", labels) == -1)) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	e = issue_call(t, "POST", &u, b, out);
	cJSON_Delete(b);
	return e;
}

/* The ref of issue n of the repository: its number. */
static char *
ref_of(const struct tracker *t, const char *name, long long n)
{
	char	*ref;

	(void)t;
	(void)name;
	return asprintf(&ref, "%lld", n) == -1 ? NULL : ref;
}

static const char *const issue_paths[] = { "/issues/", NULL };

static enum http_err
get(struct tracker *t, const char *ref, struct tracker_issue *out)
{
	struct buf	 u;

	memset(out, 0, sizeof(*out));
	if (issue_url(t, &u, ref, "") == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	return issue_call(t, "GET", &u, NULL, out);
}

/* Replaces the issue's labels with a labels endpoint's answer. */
static enum http_err
label_call(struct tracker *t, const char *method, struct buf *u,
    const cJSON *body, struct tracker_issue *out)
{
	cJSON		*j = NULL;
	enum http_err	 e;
	size_t		 n;

	e = upstream_call(&t->up, method, buf_str(u), body, &j);
	buf_release(u);
	/* Removing a label the issue no longer has is done already. */
	if (e == HTTP_ECLIENT && t->up.status == 404 &&
	    strcmp(method, "DELETE") == 0) {
		cJSON_Delete(j);
		return HTTP_OK;
	}
	if (e == HTTP_OK && cJSON_IsArray(j)) {
		for (n = 0; n < out->nlabels; n++)
			free(out->labels[n]);
		free(out->labels);
		out->labels = NULL;
		out->nlabels = 0;
		if (tracker_issue_labels(out, j) == -1)
			e = HTTP_EINTERNAL;
	}
	cJSON_Delete(j);
	return e;
}

/*
 * PATCH for title, body and state; then the labels one at a time, so
 * only the ones pbsync manages are touched (PATCH would replace all).
 */
static enum http_err
edit(struct tracker *t, const char *ref, const struct tracker_edit *ed,
    struct tracker_issue *out)
{
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject();
	const char	*p, *c;
	char		 name[256];
	enum http_err	 e;

	memset(out, 0, sizeof(*out));
	if (b == NULL || issue_url(t, &u, ref, "") == -1 ||
	    (ed->title != NULL && add_title(b, ed->title) == -1) ||
	    (ed->description != NULL &&
	    cJSON_AddStringToObject(b, "body", ed->description) == NULL)) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	if (ed->state != NULL) {
		int closing = strcmp(ed->state, "closed") == 0;

		cJSON_AddStringToObject(b, "state", closing ? "closed" :
		    "open");
		cJSON_AddStringToObject(b, "state_reason", closing ?
		    "completed" : "reopened");
	}
	e = issue_call(t, cJSON_GetArraySize(b) > 0 ? "PATCH" : "GET", &u,
	    cJSON_GetArraySize(b) > 0 ? b : NULL, out);
	cJSON_Delete(b);
	if (e == HTTP_OK && ed->add_labels != NULL) {
		if ((b = cJSON_CreateObject()) == NULL ||
		    add_labels(b, "labels", ed->add_labels) == -1 ||
		    issue_url(t, &u, ref, "/labels") == -1)
			e = HTTP_EINTERNAL;
		else
			e = label_call(t, "POST", &u, b, out);
		cJSON_Delete(b);
	}
	for (p = ed->remove_labels; e == HTTP_OK && p != NULL && *p != '\0';
	    p = c != NULL ? c + 1 : NULL) {
		c = strchr(p, ',');
		snprintf(name, sizeof(name), "%.*s", (int)(c != NULL ?
		    (size_t)(c - p) : strlen(p)), p);
		if (issue_url(t, &u, ref, "/labels/") == -1 ||
		    http_escape_segment(&u, name) == -1) {
			buf_release(&u);
			e = HTTP_EINTERNAL;
		} else
			e = label_call(t, "DELETE", &u, NULL, out);
	}
	if (e != HTTP_OK)
		tracker_issue_release(out);
	return e;
}

/*
 * The marker search: the token's own issues in the repository, newest
 * first, read in pages of 100 (GitHub's issue search is another API with
 * its own, lower limits).  A transferred issue is gone for pbsync, so
 * moved_to is never asked for.
 */
/* An issue (not a pull request) whose body has the marker. */
static int
names_marker(const cJSON *item, const char *marker)
{
	const char	*d = cJSON_GetStringValue(cJSON_GetObjectItem(item,
			    "body"));

	return cJSON_GetObjectItem(item, "pull_request") == NULL &&
	    d != NULL && strstr(d, marker) != NULL;
}

static enum http_err
find_marker(struct tracker *t, const char *marker, const char *moved_to,
    struct tracker_issue *out)
{
	const struct tracker_pick pick = { marker, names_marker, read_issue,
	    NULL, NULL };
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e;
	int		 page, n = 0;

	memset(out, 0, sizeof(*out));
	if (moved_to != NULL)
		return HTTP_OK;
	if ((e = tracker_self(t)) != HTTP_OK)
		return e;
	for (page = 1; page <= 10 && out->id == NULL; page++) {
		if (repo_url(t, &u, "/issues?state=all&sort=created"
		    "&direction=desc&per_page=100") == -1 ||
		    buf_printf(&u, "&page=%d", page) == -1) {
			buf_release(&u);
			return HTTP_EINTERNAL;
		}
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
		buf_release(&u);
		if (e != HTTP_OK)
			break;
		n = cJSON_GetArraySize(j);
		if (tracker_pick_marked(t, j, &pick, out) == -1)
			e = HTTP_ESERVER;
		cJSON_Delete(j);
		j = NULL;
		if (e != HTTP_OK || n < 100)
			break;
	}
	return e;
}

static enum http_err
hook_create(struct tracker *t, const char *url, const char *secret,
    char **id)
{
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject(), *cfg, *ev;
	enum http_err	 e;

	*id = NULL;
	if (b == NULL || repo_url(t, &u, "/hooks") == -1 ||
	    (cfg = cJSON_AddObjectToObject(b, "config")) == NULL ||
	    (ev = cJSON_AddArrayToObject(b, "events")) == NULL) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	cJSON_AddStringToObject(b, "name", "web");
	cJSON_AddTrueToObject(b, "active");
	cJSON_AddItemToArray(ev, cJSON_CreateString("issues"));
	cJSON_AddStringToObject(cfg, "url", url);
	/* The default, form, would wrap the JSON in payload=. */
	cJSON_AddStringToObject(cfg, "content_type", "json");
	cJSON_AddStringToObject(cfg, "secret", secret);
	cJSON_AddStringToObject(cfg, "insecure_ssl", "0");
	e = tracker_call_id(t, "POST", buf_str(&u), b, id);
	buf_release(&u);
	cJSON_Delete(b);
	return e;
}

static enum http_err
hook_delete(struct tracker *t, const char *id)
{
	struct buf	 u;

	if (repo_url(t, &u, "/hooks/") == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	return tracker_delete_in(t, &u, id);
}

/* GET of the hook (repos/webhooks#get-a-repository-webhook): "active". */
static enum http_err
hook_exists(struct tracker *t, const char *id, int *active)
{
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e = HTTP_EINTERNAL;

	*active = 0;
	if (repo_url(t, &u, "/hooks/") == 0 &&
	    http_escape_segment(&u, id) == 0)
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e == HTTP_OK)
		*active = !cJSON_IsFalse(cJSON_GetObjectItem(j, "active"));
	cJSON_Delete(j);
	return e;
}

/* "owner/repo", each part of GitHub's name characters: 0 or -1. */
static int
repo_name_ok(const char *s)
{
	size_t	 i, slash = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '/') {
			if (i == 0 || s[i + 1] == '\0' || slash++ > 0)
				return -1;
		} else if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return -1;
	}
	return slash == 1 && i <= 200 ? 0 : -1;
}

static enum http_err
project(struct tracker *t, const char *given, struct tracker_project *p)
{
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e;
	const char	*s;

	if (repo_name_ok(given) == -1) {
		snprintf(t->up.err, sizeof(t->up.err), "github: \"%s\" is not "
		    "an owner/repository name", given);
		t->up.status = 404;
		return HTTP_ECLIENT;
	}
	buf_init(&u, 4096);
	if (buf_printf(&u, "%s/repos/%s", t->base, given) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e != HTTP_OK)
		goto out;
	if ((s = json_str(j, "full_name", 256)) == NULL ||
	    repo_name_ok(s) == -1 || (p->id = strdup(s)) == NULL ||
	    (p->name = strdup(s)) == NULL ||
	    (p->web_url = strdup((s = json_str(j, "html_url", 2048)) ?
	    s : "")) == NULL) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "github sent a repository without its name");
		tracker_project_release(p);
		e = HTTP_ESERVER;
		goto out;
	}
	p->can_write = cJSON_IsTrue(json_get(j, "permissions.triage")) ||
	    cJSON_IsTrue(json_get(j, "permissions.push"));
	p->can_hook = cJSON_IsTrue(json_get(j, "permissions.admin"));
out:
	cJSON_Delete(j);
	return e;
}

static int
relevant(const struct tracker_hook_in *in)
{
	const char	*event = in->param(in->arg, "HTTP_X_GITHUB_EVENT");

	return event != NULL && strcmp(event, "issues") == 0;
}

/* An issues event (more-trackers.md §A.4). */
static int
decode(const struct tracker_hook_in *in, struct tracker_delivery *d)
{
	cJSON		*j;
	const char	*action, *key;
	char		*id = NULL;

	memset(d, 0, sizeof(*d));
	if ((j = json_parse(in->body, in->len)) == NULL) {
		d->error = "malformed JSON";
		goto out;
	}
	if ((action = json_str(j, "action", 32)) == NULL) {
		d->error = "action missing";
		goto out;
	}
	if (tracker_json_id(j, "issue.id", &id) == -1 ||
	    strlen(id) >= sizeof(d->id)) {
		d->error = "issue.id missing";
		goto out;
	}
	/* Pull requests are issues too; pbsync links issues only. */
	if (cJSON_GetObjectItem(cJSON_GetObjectItem(j, "issue"),
	    "pull_request") != NULL)
		goto out;
	memcpy(d->id, id, strlen(id) + 1);
	d->deleted = strcmp(action, "deleted") == 0 ||
	    strcmp(action, "transferred") == 0;
	key = in->param(in->arg, "HTTP_X_GITHUB_DELIVERY");
	tracker_delivery_key(d, key);
	d->relevant = 1;
out:
	free(id);
	cJSON_Delete(j);
	return d->error != NULL ? -1 : 0;
}

const struct tracker_ops github_ops = {
	.kind = "github",
	.title = "GitHub",
	.url_default = "https://api.github.com",
	.url_label = "GitHub API URL (GitHub Enterprise Server: "
	    "https://host/api/v3)",
	.project_label = "Repository (owner/repo)",
	.token_label = "Token (Issues and Webhooks: read and write)",
	.need_write = "The GitHub token cannot write issues (it needs Issues "
	    "read and write: triage or push access) in",
	.need_hook = "The GitHub token cannot create repository webhooks (it "
	    "needs admin access: Webhooks read and write) on",
	.states = tracker_two_states,
	.open = open_github,
	.project = project,
	.create = create,
	.get = get,
	.edit = edit,
	.find_marker = find_marker,
	.hook_create = hook_create,
	.hook_delete = hook_delete,
	.hook_exists = hook_exists,
	.from_html = html2md_convert,
	.footer_append = marker_append,
	.footer_strip = marker_strip,
	.to_html = md2html_convert_breaks,
	.max_title = MAX_TITLE,
	.max_description = MAX_BODY,
	.issue_paths = issue_paths,
	.ref_sep = '#',
	.ref_of = ref_of,
	.auth = TRACKER_AUTH_HMAC_SHA256,
	.auth_header = "HTTP_X_HUB_SIGNATURE_256",
	.relevant = relevant,
	.decode = decode,
};
