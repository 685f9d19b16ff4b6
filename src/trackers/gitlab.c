#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/util.h"
#include "convert/html2md.h"
#include "convert/md2html.h"
#include "trackers/gitlab.h"

#define MAX_TITLE	255
#define MAX_DESC	(1u << 20)

static enum http_err	create(struct tracker *, const char *, const char *,
			    const char *, struct tracker_issue *);
static enum http_err	get(struct tracker *, long long, long long,
			    struct tracker_issue *);
static enum http_err	edit(struct tracker *, long long, long long,
			    const struct tracker_edit *, struct tracker_issue *);
static enum http_err	find_marker(struct tracker *, const char *, long long,
			    struct tracker_issue *);
static enum http_err	hook_create(struct tracker *, const char *,
			    const char *, long long *);
static enum http_err	hook_delete(struct tracker *, long long);

static const struct tracker_ops ops = {
	"gitlab", create, get, edit, find_marker, hook_create, hook_delete,
	MAX_DESC
};

int
gitlab_open(struct tracker *t, struct app *a, const char *base_url,
    const char *token, long long project_id)
{
	memset(t, 0, sizeof(*t));
	t->ops = &ops;
	t->project_id = project_id;
	if (asprintf(&t->base, "%s/api/v4", base_url) == -1) {
		t->base = NULL;
		return -1;
	}
	util_strip_trailing(t->base, '/');
	if (upstream_init(&t->up, a, "gitlab", "PRIVATE-TOKEN: ", token,
	    GITLAB_RATE_PER_S) == -1) {
		free(t->base);
		t->base = NULL;
		return -1;
	}
	return 0;
}

void
gitlab_close(struct tracker *t)
{
	upstream_release(&t->up);
	free(t->base);
	t->base = NULL;
}

void
tracker_issue_release(struct tracker_issue *i)
{
	size_t	 n;

	free(i->title);
	free(i->description);
	free(i->state);
	free(i->web_url);
	for (n = 0; n < i->nlabels; n++)
		free(i->labels[n]);
	free(i->labels);
	memset(i, 0, sizeof(*i));
}

int
tracker_issue_has_label(const struct tracker_issue *i, const char *label)
{
	size_t	 n;

	for (n = 0; n < i->nlabels; n++)
		if (strcmp(i->labels[n], label) == 0)
			return 1;
	return 0;
}

/* Reads a REST issue object (gittab-api.md §3.2). */
static int
read_issue(const cJSON *j, struct tracker_issue *out)
{
	const cJSON	*labels, *it;
	const char	*d, *t;
	size_t		 n = 0;

	memset(out, 0, sizeof(*out));
	if (json_int(j, "id", 1, INT64_MAX, &out->id) == -1 ||
	    json_int(j, "iid", 1, INT64_MAX, &out->iid) == -1 ||
	    json_int(j, "project_id", 1, INT64_MAX, &out->project_id) == -1)
		return -1;
	json_int(j, "moved_to_id", 1, INT64_MAX, &out->moved_to_id);
	json_int(j, "author.id", 1, INT64_MAX, &out->author_id);
	d = cJSON_GetStringValue(cJSON_GetObjectItem(j, "description"));
	out->title = md2html_title((t = json_str(j, "title", MAX_TITLE * 4)) ?
	    t : "");
	out->description = strdup(d != NULL ? d : "");
	out->state = strdup((t = json_str(j, "state", 16)) ? t : "opened");
	out->web_url = strdup((t = json_str(j, "web_url", 2048)) ? t : "");
	if ((t = json_str(j, "updated_at", 64)) != NULL)
		util_parse_time(t, &out->updated_at);
	labels = cJSON_GetObjectItem(j, "labels");
	out->labels = calloc((size_t)cJSON_GetArraySize(labels) + 1,
	    sizeof(char *));
	if (out->labels != NULL)
		cJSON_ArrayForEach(it, labels)
			if (cJSON_IsString(it) &&
			    (out->labels[n] = strdup(it->valuestring)) != NULL)
				n++;
	out->nlabels = n;
	if (out->title == NULL || out->description == NULL ||
	    out->state == NULL || out->web_url == NULL || out->labels == NULL) {
		tracker_issue_release(out);
		return -1;
	}
	return 0;
}

/*
 * Adds a title as GitLab must get it: GitLab parses mentions and
 * references in titles too, so they are broken as in descriptions, and
 * read_issue() takes the joiners out again.  0 or -1.
 */
static int
add_title(cJSON *b, const char *title)
{
	char	*t;
	int	 rc;

	size_t	 i = 0, n, len, chars = 0;
	uint32_t cp;

	if ((t = html2md_title(title)) == NULL)
		return -1;
	/* The joiners count against GitLab's 255 characters too. */
	len = strlen(t);
	while (i < len && chars < MAX_TITLE &&
	    (n = util_utf8_decode(t + i, len - i, &cp)) > 0) {
		i += n;
		chars++;
	}
	t[i] = '\0';
	rc = cJSON_AddStringToObject(b, "title", t) != NULL ? 0 : -1;
	free(t);
	return rc;
}

/* Builds "<base>/projects/<pid>/<fmt...>". */
static int
project_url(struct tracker *t, struct buf *b, long long pid, const char *rest)
{
	buf_init(b, 8192);
	return buf_printf(b, "%s/projects/%lld%s", t->base,
	    pid > 0 ? pid : t->project_id, rest);
}

/* Calls url and, on success, reads an issue from the answer. */
static enum http_err
issue_call(struct tracker *t, const char *method, struct buf *u,
    const cJSON *body, struct tracker_issue *out)
{
	cJSON		*j = NULL;
	enum http_err	 e;

	e = upstream_call(&t->up, method, buf_str(u), body, &j);
	buf_release(u);
	if (e == HTTP_OK && read_issue(j, out) == -1) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "gitlab sent an issue without id/iid/project_id");
		e = HTTP_ESERVER;
	}
	cJSON_Delete(j);
	return e;
}

static enum http_err
create(struct tracker *t, const char *title, const char *description,
    const char *labels, struct tracker_issue *out)
{
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject();
	enum http_err	 e;

	memset(out, 0, sizeof(*out));
	if (b == NULL || project_url(t, &u, 0, "/issues") == -1) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	if (add_title(b, title) == -1) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	cJSON_AddStringToObject(b, "description", description);
	if (labels != NULL && *labels != '\0')
		cJSON_AddStringToObject(b, "labels", labels);
	e = issue_call(t, "POST", &u, b, out);
	cJSON_Delete(b);
	return e;
}

static enum http_err
get(struct tracker *t, long long pid, long long iid, struct tracker_issue *out)
{
	struct buf	 u;
	char		 rest[64];

	memset(out, 0, sizeof(*out));
	snprintf(rest, sizeof(rest), "/issues/%lld", iid);
	if (project_url(t, &u, pid, rest) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	return issue_call(t, "GET", &u, NULL, out);
}

static enum http_err
edit(struct tracker *t, long long pid, long long iid,
    const struct tracker_edit *ed, struct tracker_issue *out)
{
	struct buf	 u;
	char		 rest[64];
	cJSON		*b = cJSON_CreateObject();
	enum http_err	 e;

	memset(out, 0, sizeof(*out));
	snprintf(rest, sizeof(rest), "/issues/%lld", iid);
	if (b == NULL || project_url(t, &u, pid, rest) == -1) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	if (ed->title != NULL && add_title(b, ed->title) == -1) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	if (ed->description != NULL)
		cJSON_AddStringToObject(b, "description", ed->description);
	if (ed->state_event != NULL)
		cJSON_AddStringToObject(b, "state_event", ed->state_event);
	if (ed->add_labels != NULL)
		cJSON_AddStringToObject(b, "add_labels", ed->add_labels);
	if (ed->remove_labels != NULL)
		cJSON_AddStringToObject(b, "remove_labels", ed->remove_labels);
	e = issue_call(t, "PUT", &u, b, out);
	cJSON_Delete(b);
	return e;
}

/* The id of the token's user (GET /user), asked once. */
static enum http_err
self_id(struct tracker *t, long long *id)
{
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e;

	if (t->self_id > 0) {
		*id = t->self_id;
		return HTTP_OK;
	}
	buf_init(&u, 8192);
	if (buf_printf(&u, "%s/user", t->base) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e == HTTP_OK && json_int(j, "id", 1, INT64_MAX, &t->self_id) == -1) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "gitlab sent a user without id");
		e = HTTP_ESERVER;
	}
	cJSON_Delete(j);
	*id = t->self_id;
	return e;
}

static enum http_err
find_marker(struct tracker *t, const char *marker, long long moved_to,
    struct tracker_issue *out)
{
	static const char params[] = "in=description&state=all"
	    "&per_page=100&search=";
	struct buf	 u;
	cJSON		*j = NULL, *it;
	struct tracker_issue iss;
	long long	 me;
	enum http_err	 e;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((e = self_id(t, &me)) != HTTP_OK)
		return e;
	if (moved_to > 0) {
		buf_init(&u, 8192);
		rc = buf_printf(&u, "%s/issues?scope=all&%s", t->base, params);
	} else if ((rc = project_url(t, &u, 0, "/issues?")) == 0)
		rc = buf_puts(&u, params);
	if (rc == -1 || http_escape_segment(&u, marker) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e == HTTP_OK)
		cJSON_ArrayForEach(it, j) {
			const char *d = cJSON_GetStringValue(
			    cJSON_GetObjectItem(it, "description"));

			/* search= is fuzzy: only an exact marker counts. */
			if (d == NULL || strstr(d, marker) == NULL)
				continue;
			if (read_issue(it, &iss) == -1) {
				e = HTTP_ESERVER;
				break;
			}
			/* Ours, not a husk, and where GitLab says it went. */
			if (iss.author_id == me && iss.moved_to_id == 0 &&
			    (moved_to == 0 || iss.id == moved_to)) {
				*out = iss;
				break;
			}
			tracker_issue_release(&iss);
		}
	cJSON_Delete(j);
	return e;
}

static enum http_err
hook_create(struct tracker *t, const char *url, const char *token,
    long long *id)
{
	static const char *off[] = { "push_events", "note_events",
	    "confidential_note_events", "tag_push_events",
	    "merge_requests_events", "pipeline_events", "job_events",
	    "wiki_page_events", "releases_events", "deployment_events" };
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject(), *j = NULL;
	enum http_err	 e;
	size_t		 i;

	*id = 0;
	if (b == NULL || project_url(t, &u, 0, "/hooks") == -1) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	cJSON_AddStringToObject(b, "url", url);
	cJSON_AddStringToObject(b, "name", "pbsync");
	cJSON_AddStringToObject(b, "token", token);
	cJSON_AddBoolToObject(b, "enable_ssl_verification",
	    strncmp(url, "https:", 6) == 0);
	cJSON_AddTrueToObject(b, "issues_events");
	cJSON_AddTrueToObject(b, "confidential_issues_events");
	/* push_events defaults to true in GitLab's schema: say no. */
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		cJSON_AddFalseToObject(b, off[i]);
	e = upstream_call(&t->up, "POST", buf_str(&u), b, &j);
	buf_release(&u);
	cJSON_Delete(b);
	if (e == HTTP_OK && json_int(j, "id", 1, INT64_MAX, id) == -1) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "gitlab answered without a hook id");
		e = HTTP_ESERVER;
	}
	cJSON_Delete(j);
	return e;
}

static enum http_err
hook_delete(struct tracker *t, long long id)
{
	struct buf	 u;
	char		 rest[64];
	enum http_err	 e;

	snprintf(rest, sizeof(rest), "/hooks/%lld", id);
	if (project_url(t, &u, 0, rest) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	e = upstream_call(&t->up, "DELETE", buf_str(&u), NULL, NULL);
	buf_release(&u);
	return e;
}

enum http_err
gitlab_project(struct tracker *t, const char *id_or_path,
    struct gitlab_project *p)
{
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e;
	const char	*s;
	long long	 lvl = 0, glvl = 0;

	memset(p, 0, sizeof(*p));
	buf_init(&u, 4096);
	if (buf_printf(&u, "%s/projects/", t->base) == -1 ||
	    http_escape_segment(&u, id_or_path) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e != HTTP_OK)
		goto out;
	if (json_int(j, "id", 1, INT64_MAX, &p->id) == -1 ||
	    (s = json_str(j, "path_with_namespace", 1024)) == NULL ||
	    (p->path = strdup(s)) == NULL) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "gitlab sent a project without id or path");
		e = HTTP_ESERVER;
		goto out;
	}
	p->web_url = strdup((s = json_str(j, "web_url", 2048)) ? s : "");
	json_int(j, "permissions.project_access.access_level", 0, 100, &lvl);
	json_int(j, "permissions.group_access.access_level", 0, 100, &glvl);
	p->access_level = (int)(lvl > glvl ? lvl : glvl);
out:
	cJSON_Delete(j);
	return e;
}

void
gitlab_project_release(struct gitlab_project *p)
{
	free(p->path);
	free(p->web_url);
	memset(p, 0, sizeof(*p));
}

int
gitlab_hook_decode(struct gitlab_hook *h, const char *body, size_t len)
{
	cJSON		*j;
	const char	*kind;

	memset(h, 0, sizeof(*h));
	if ((j = json_parse(body, len)) == NULL) {
		h->error = "malformed JSON";
		goto out;
	}
	if ((kind = json_str(j, "object_kind", 32)) == NULL) {
		h->error = "object_kind missing";
		goto out;
	}
	if (strcmp(kind, "issue") != 0)
		goto out;
	if (json_int(j, "object_attributes.id", 1, INT64_MAX, &h->id) == -1 ||
	    json_int(j, "object_attributes.iid", 1, INT64_MAX, &h->iid) == -1 ||
	    json_int(j, "object_attributes.project_id", 1, INT64_MAX,
	    &h->project_id) == -1) {
		h->error = "object_attributes incomplete";
		goto out;
	}
	/* Left 0 when null: the issue was not moved. */
	json_int(j, "object_attributes.moved_to_id", 1, INT64_MAX,
	    &h->moved_to_id);
	h->is_issue = 1;
out:
	cJSON_Delete(j);
	return h->error != NULL ? -1 : 0;
}
