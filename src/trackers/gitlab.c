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
#include "trackers/marker.h"

#define MAX_TITLE	255
#define MAX_DESC	(1u << 20)
#define MAINTAINER	40
#define REPORTER	20

/*
 * A ref is "<project id>/<iid>": GitLab finds an issue by both, and an
 * issue that moved is in another project.
 */
static int
ref_parse(const char *ref, long long *pid, long long *iid)
{
	char	*end;

	*pid = strtoll(ref != NULL ? ref : "", &end, 10);
	if (*pid <= 0 || *end != '/')
		return -1;
	*iid = strtoll(end + 1, &end, 10);
	return *iid > 0 && *end == '\0' ? 0 : -1;
}

static int
open_gitlab(struct tracker *t, struct app *a, const char *url,
    const char *token)
{
	if (asprintf(&t->base, "%s/api/v4", url) == -1) {
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

/* Reads a REST issue object (gittab-api.md §3.2). */
static int
read_issue(const cJSON *j, struct tracker_issue *out)
{
	const char	*d, *t;
	long long	 iid, pid;
	char		 ref[64], key[32];

	memset(out, 0, sizeof(*out));
	if (json_int(j, "iid", 1, INT64_MAX, &iid) == -1 ||
	    json_int(j, "project_id", 1, INT64_MAX, &pid) == -1 ||
	    tracker_json_id(j, "id", &out->id) == -1)
		goto fail;
	snprintf(ref, sizeof(ref), "%lld/%lld", pid, iid);
	/* GitLab's short reference: the project is the integration's. */
	snprintf(key, sizeof(key), "#%lld", iid);
	if ((out->ref = strdup(ref)) == NULL || (out->key = strdup(key)) == NULL)
		goto fail;
	tracker_json_id(j, "moved_to_id", &out->moved_to);
	tracker_json_id(j, "author.id", &out->author);
	d = cJSON_GetStringValue(cJSON_GetObjectItem(j, "description"));
	out->title = md2html_title((t = json_str(j, "title", MAX_TITLE * 4)) ?
	    t : "");
	out->description = strdup(d != NULL ? d : "");
	out->state = strdup((t = json_str(j, "state", 16)) != NULL &&
	    strcmp(t, "closed") == 0 ? "closed" : "opened");
	out->web_url = strdup((t = json_str(j, "web_url", 2048)) ? t : "");
	if ((t = json_str(j, "updated_at", 64)) != NULL)
		util_parse_time(t, &out->updated_at);
	if (out->title == NULL || out->description == NULL ||
	    out->state == NULL || out->web_url == NULL ||
	    tracker_issue_labels(out, cJSON_GetObjectItem(j, "labels")) == -1)
		goto fail;
	return 0;
fail:
	tracker_issue_release(out);
	return -1;
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

/* Builds "<base>/projects/<pid or the tracker's project><rest>". */
static int
project_url(struct tracker *t, struct buf *b, long long pid, const char *rest)
{
	buf_init(b, 8192);
	if (pid > 0)
		return buf_printf(b, "%s/projects/%lld%s", t->base, pid, rest);
	if (t->project == NULL)
		return -1;
	return buf_printf(b, "%s/projects/%s%s", t->base, t->project, rest);
}

/* The URL of the issue a ref names. */
static int
issue_url(struct tracker *t, struct buf *b, const char *ref)
{
	long long	 pid, iid;
	char		 rest[64];

	buf_init(b, 8192);
	if (ref_parse(ref, &pid, &iid) == -1)
		return -1;
	snprintf(rest, sizeof(rest), "/issues/%lld", iid);
	return project_url(t, b, pid, rest);
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
	if (b == NULL || project_url(t, &u, 0, "/issues") == -1 ||
	    add_title(b, title) == -1) {
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

/* The ref of issue n: the integration's project and the iid. */
static char *
ref_of(const struct tracker *t, const char *name, long long n)
{
	char	*ref;

	(void)name;
	return asprintf(&ref, "%s/%lld", t->project, n) == -1 ? NULL : ref;
}

static const char *const issue_paths[] = { "/-/issues/", "/issues/", NULL };

static enum http_err
get(struct tracker *t, const char *ref, struct tracker_issue *out)
{
	struct buf	 u;

	memset(out, 0, sizeof(*out));
	if (issue_url(t, &u, ref) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	return issue_call(t, "GET", &u, NULL, out);
}

/*
 * The issues of the refs in the integration's project, by one list of
 * their iids (gittab-api.md §3.5, 100 a page); an issue that moved to
 * another project is left to get.
 */
static enum http_err
scan(struct tracker *t, const char *const *refs, size_t n,
    struct tracker_issue *out)
{
	struct buf	 u;
	cJSON		*j = NULL;
	const cJSON	*it;
	struct tracker_issue iss;
	enum http_err	 e = HTTP_OK;
	long long	 pid, iid, own;
	size_t		 k, asked = 0;
	int		 rc;

	memset(out, 0, n * sizeof(*out));
	if (n > TRACKER_SCAN_MAX || t->project == NULL)
		return HTTP_EINTERNAL;
	own = strtoll(t->project, NULL, 10);
	rc = project_url(t, &u, 0, "/issues?state=all&per_page=100");
	for (k = 0; k < n && rc == 0; k++)
		if (ref_parse(refs[k], &pid, &iid) == 0 && pid == own) {
			rc = buf_printf(&u, "&iids[]=%lld", iid);
			asked++;
		}
	if (rc == 0 && asked > 0)
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (rc == -1)
		return HTTP_EINTERNAL;
	cJSON_ArrayForEach(it, (e == HTTP_OK ? j : NULL)) {
		if (read_issue(it, &iss) == -1) {
			snprintf(t->up.err, sizeof(t->up.err),
			    "gitlab sent an issue without id/iid/project_id");
			e = HTTP_ESERVER;
			break;
		}
		for (k = 0; k < n && (refs[k] == NULL ||
		    strcmp(refs[k], iss.ref) != 0); k++)
			;
		if (k < n && out[k].id == NULL)
			out[k] = iss;
		else
			tracker_issue_release(&iss);
	}
	cJSON_Delete(j);
	for (k = 0; k < n && e != HTTP_OK; k++)
		tracker_issue_release(&out[k]);
	return e;
}

static enum http_err
edit(struct tracker *t, const char *ref, const struct tracker_edit *ed,
    struct tracker_issue *out)
{
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject();
	enum http_err	 e;

	memset(out, 0, sizeof(*out));
	if (b == NULL || issue_url(t, &u, ref) == -1 ||
	    (ed->title != NULL && add_title(b, ed->title) == -1)) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	if (ed->description != NULL)
		cJSON_AddStringToObject(b, "description", ed->description);
	if (ed->state != NULL)
		cJSON_AddStringToObject(b, "state_event",
		    strcmp(ed->state, "closed") == 0 ? "close" : "reopen");
	if (ed->add_labels != NULL)
		cJSON_AddStringToObject(b, "add_labels", ed->add_labels);
	if (ed->remove_labels != NULL)
		cJSON_AddStringToObject(b, "remove_labels", ed->remove_labels);
	e = issue_call(t, "PUT", &u, b, out);
	cJSON_Delete(b);
	return e;
}

/* search= is fuzzy: only an exact marker counts. */
static int
names_marker(const cJSON *item, const char *marker)
{
	const char	*d = cJSON_GetStringValue(cJSON_GetObjectItem(item,
			    "description"));

	return d != NULL && strstr(d, marker) != NULL;
}

static int
read_item(const struct tracker *t, const cJSON *item,
    struct tracker_issue *out)
{
	(void)t;
	return read_issue(item, out);
}

/* Not a husk, and where GitLab says it went (moved_to, or anywhere). */
static int
fits_move(const struct tracker_issue *i, const char *moved_to)
{
	return i->moved_to == NULL &&
	    (moved_to == NULL || strcmp(i->id, moved_to) == 0);
}

static enum http_err
find_marker(struct tracker *t, const char *marker, const char *moved_to,
    struct tracker_issue *out)
{
	static const char params[] = "in=description&state=all"
	    "&per_page=100&search=";
	const struct tracker_pick pick = { marker, names_marker, read_item,
	    fits_move, moved_to };
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if ((e = tracker_self(t)) != HTTP_OK)
		return e;
	if (moved_to != NULL) {
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
	if (e == HTTP_OK && tracker_pick_marked(t, j, &pick, out) == -1)
		e = HTTP_ESERVER;
	cJSON_Delete(j);
	return e;
}

static enum http_err
hook_create(struct tracker *t, const char *url, const char *secret,
    char **id)
{
	static const char *off[] = { "push_events", "note_events",
	    "confidential_note_events", "tag_push_events",
	    "merge_requests_events", "pipeline_events", "job_events",
	    "wiki_page_events", "releases_events", "deployment_events" };
	struct buf	 u;
	cJSON		*b = cJSON_CreateObject();
	enum http_err	 e;
	size_t		 i;

	*id = NULL;
	if (b == NULL || project_url(t, &u, 0, "/hooks") == -1) {
		cJSON_Delete(b);
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	cJSON_AddStringToObject(b, "url", url);
	cJSON_AddStringToObject(b, "name", "pbsync");
	cJSON_AddStringToObject(b, "token", secret);
	cJSON_AddBoolToObject(b, "enable_ssl_verification",
	    strncmp(url, "https:", 6) == 0);
	cJSON_AddTrueToObject(b, "issues_events");
	cJSON_AddTrueToObject(b, "confidential_issues_events");
	/* push_events defaults to true in GitLab's schema: say no. */
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		cJSON_AddFalseToObject(b, off[i]);
	e = tracker_call_id(t, "POST", buf_str(&u), b, id);
	buf_release(&u);
	cJSON_Delete(b);
	return e;
}

static enum http_err
hook_delete(struct tracker *t, const char *id)
{
	struct buf	 u;

	if (project_url(t, &u, 0, "/hooks/") == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	return tracker_delete_in(t, &u, id);
}

/* GET of the hook; alert_status says whether GitLab disabled it (§4). */
static enum http_err
hook_exists(struct tracker *t, const char *id, int *active)
{
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e = HTTP_EINTERNAL;
	const char	*s;

	*active = 0;
	if (project_url(t, &u, 0, "/hooks/") == 0 &&
	    http_escape_segment(&u, id) == 0)
		e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e == HTTP_OK)
		*active = (s = json_str(j, "alert_status", 32)) == NULL ||
		    strcmp(s, "executable") == 0;
	cJSON_Delete(j);
	return e;
}

static enum http_err
project(struct tracker *t, const char *given, struct tracker_project *p)
{
	struct buf	 u;
	cJSON		*j = NULL;
	enum http_err	 e;
	const char	*s;
	long long	 lvl = 0, glvl = 0;

	buf_init(&u, 4096);
	if (buf_printf(&u, "%s/projects/", t->base) == -1 ||
	    http_escape_segment(&u, given) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	e = upstream_call(&t->up, "GET", buf_str(&u), NULL, &j);
	buf_release(&u);
	if (e != HTTP_OK)
		goto out;
	if (tracker_json_id(j, "id", &p->id) == -1 ||
	    (s = json_str(j, "path_with_namespace", 1024)) == NULL ||
	    (p->name = strdup(s)) == NULL ||
	    (p->web_url = strdup((s = json_str(j, "web_url", 2048)) ?
	    s : "")) == NULL) {
		snprintf(t->up.err, sizeof(t->up.err),
		    "gitlab sent a project without id or path");
		tracker_project_release(p);
		e = HTTP_ESERVER;
		goto out;
	}
	json_int(j, "permissions.project_access.access_level", 0, 100, &lvl);
	json_int(j, "permissions.group_access.access_level", 0, 100, &glvl);
	if (glvl > lvl)
		lvl = glvl;
	p->can_write = lvl >= REPORTER;
	p->can_hook = lvl >= MAINTAINER;
out:
	cJSON_Delete(j);
	return e;
}

static int
relevant(const struct tracker_hook_in *in)
{
	const char	*event = in->param(in->arg, "HTTP_X_GITLAB_EVENT");

	return event != NULL && (strcmp(event, "Issue Hook") == 0 ||
	    strcmp(event, "Confidential Issue Hook") == 0);
}

/* An Issue Hook or Confidential Issue Hook (gittab-api.md §5.2). */
static int
decode(const struct tracker_hook_in *in, struct tracker_delivery *d)
{
	cJSON		*j;
	const char	*kind, *key;
	long long	 id, iid, pid;

	memset(d, 0, sizeof(*d));
	if ((j = json_parse(in->body, in->len)) == NULL) {
		d->error = "malformed JSON";
		goto out;
	}
	if ((kind = json_str(j, "object_kind", 32)) == NULL) {
		d->error = "object_kind missing";
		goto out;
	}
	if (strcmp(kind, "issue") != 0)
		goto out;
	if (json_int(j, "object_attributes.id", 1, INT64_MAX, &id) == -1 ||
	    json_int(j, "object_attributes.iid", 1, INT64_MAX, &iid) == -1 ||
	    json_int(j, "object_attributes.project_id", 1, INT64_MAX,
	    &pid) == -1) {
		d->error = "object_attributes incomplete";
		goto out;
	}
	snprintf(d->id, sizeof(d->id), "%lld", id);
	/* Left "" when null: the issue was not moved. */
	if (json_int(j, "object_attributes.moved_to_id", 1, INT64_MAX,
	    &id) == 0)
		snprintf(d->moved_to, sizeof(d->moved_to), "%lld", id);
	/* The key GitLab keeps across its resends; else the event's own. */
	key = in->param(in->arg, "HTTP_IDEMPOTENCY_KEY");
	if (key == NULL || *key == '\0')
		key = in->param(in->arg, "HTTP_X_GITLAB_EVENT_UUID");
	tracker_delivery_key(d, key);
	d->relevant = 1;
out:
	cJSON_Delete(j);
	return d->error != NULL ? -1 : 0;
}

const struct tracker_ops gitlab_ops = {
	.kind = "gitlab",
	.title = "GitLab",
	.url_default = "https://gitlab.com",
	.url_label = "GitLab URL",
	.project_label = "Project (numeric id or group/project path)",
	.token_label = "Access token (api scope, Maintainer on the project)",
	.need_write = "The GitLab token cannot create issues (it needs the "
	    "Reporter role or more) in",
	.need_hook = "The GitLab token cannot create project hooks: it needs "
	    "the Maintainer role on",
	.states = tracker_two_states,
	.open = open_gitlab,
	.project = project,
	.create = create,
	.get = get,
	.scan = scan,
	.edit = edit,
	.find_marker = find_marker,
	.hook_create = hook_create,
	.hook_delete = hook_delete,
	.hook_exists = hook_exists,
	.from_html = html2md_convert,
	.footer_append = marker_append,
	.footer_strip = marker_strip,
	.to_html = md2html_convert,
	.max_title = MAX_TITLE,
	.max_description = MAX_DESC,
	.issue_paths = issue_paths,
	.ref_sep = '#',
	.ref_of = ref_of,
	.auth = TRACKER_AUTH_TOKEN,
	.auth_header = "HTTP_X_GITLAB_TOKEN",
	.relevant = relevant,
	.decode = decode,
};
