#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "base/util.h"
#include "trackers/tracker.h"

void
tracker_close(struct tracker *t)
{
	if (t->ops != NULL)
		upstream_release(&t->up);
	free(t->base);
	free(t->project);
	free(t->self_id);
	cJSON_Delete(t->options);
	memset(t, 0, sizeof(*t));
}

char *
tracker_footer_cut(const struct tracker *t, const char *text, int *had)
{
	struct buf	 b;
	char		*out = NULL;
	int		 rc;

	/* Room for a backend that prints the rest again (JSON). */
	buf_init(&b, 2 * strlen(text) + 64);
	rc = t->ops->footer_strip(text, strlen(text), &b);
	if (rc != -1)
		out = strndup(b.len > 0 ? b.data : "", b.len);
	if (had != NULL)
		*had = rc == 1;
	buf_release(&b);
	return out;
}

const char *
tracker_option(const struct tracker *t, const char *name)
{
	const struct tracker_option *o;
	const char	*v = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(t->options, name));

	if (v != NULL && *v != '\0')
		return v;
	for (o = t->ops != NULL ? t->ops->options : NULL; o != NULL &&
	    o->name != NULL; o++)
		if (strcmp(o->name, name) == 0 && o->def != NULL)
			return o->def;
	return "";
}

static const struct tracker_option *
option_of(const struct tracker_ops *ops, const char *name)
{
	const struct tracker_option *o;

	for (o = ops->options; o != NULL && o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

int
tracker_options_ok(const struct tracker_ops *ops, const char *json,
    char *err, size_t len)
{
	cJSON		*j = cJSON_Parse(json != NULL && *json != '\0' ? json :
			    "{}");
	const cJSON	*it, *v;
	const struct tracker_option *o;
	int		 rc = -1;

	if (!cJSON_IsObject(j)) {
		snprintf(err, len, "The %s settings are not valid.",
		    ops->title);
		goto out;
	}
	cJSON_ArrayForEach(it, j) {
		if ((o = option_of(ops, it->string)) == NULL) {
			snprintf(err, len, "%s has no setting \"%.40s\".",
			    ops->title, it->string);
			goto out;
		}
		if (!cJSON_IsString(it) ||
		    strlen(it->valuestring) > TRACKER_MAX_OPTION ||
		    !util_text_ok(it->valuestring, strlen(it->valuestring))) {
			snprintf(err, len, "%s: the %s must be at most %d "
			    "characters of text.", ops->title, o->label,
			    TRACKER_MAX_OPTION);
			goto out;
		}
	}
	for (o = ops->options; o != NULL && o->name != NULL; o++) {
		v = cJSON_GetObjectItemCaseSensitive(j, o->name);
		if (o->def == NULL && (v == NULL || *v->valuestring == '\0')) {
			snprintf(err, len, "Enter the %s: %s.", ops->title,
			    o->label);
			goto out;
		}
	}
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}

enum http_err
tracker_project(struct tracker *t, const char *given, struct tracker_project *p)
{
	enum http_err	 e;

	memset(p, 0, sizeof(*p));
	if ((e = t->ops->project(t, given, p)) != HTTP_OK)
		return e;
	free(t->project);
	if ((t->project = strdup(p->id)) == NULL)
		return HTTP_EINTERNAL;
	return HTTP_OK;
}

void
tracker_project_release(struct tracker_project *p)
{
	free(p->id);
	free(p->name);
	free(p->web_url);
	memset(p, 0, sizeof(*p));
}

void
tracker_issue_release(struct tracker_issue *i)
{
	size_t	 n;

	free(i->id);
	free(i->ref);
	free(i->key);
	free(i->moved_to);
	free(i->author);
	free(i->title);
	free(i->description);
	free(i->state);
	free(i->state_group);
	free(i->state_class);
	free(i->web_url);
	for (n = 0; n < i->nlabels; n++)
		free(i->labels[n]);
	free(i->labels);
	memset(i, 0, sizeof(*i));
}

const char *const tracker_two_states[] = { "opened", "closed", NULL };

char *
tracker_title_cut(const struct tracker_ops *ops, const char *s)
{
	size_t	 i = 0, chars = 0;

	while (s[i] != '\0' && chars < ops->max_title) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	return strndup(s, i);
}

/* 1 if the n bytes of s are a then b, in any case. */
static int
spells(const char *s, size_t n, const char *a, const char *b)
{
	size_t	 na = strlen(a);

	return n == na + strlen(b) && strncasecmp(s, a, na) == 0 &&
	    strncasecmp(s + na, b, n - na) == 0;
}

/* 1 if the n bytes of s are more than a tail p, in any case. */
static int
ends_in(const char *s, size_t n, const char *p)
{
	size_t	 k = strlen(p);

	return n > k && strncasecmp(s + n - k, p, k) == 0;
}

enum tracker_named
tracker_named(const struct tracker *t, const char *name, const char *url,
    const char *text, char **ref)
{
	const struct tracker_ops *ops = t->ops;
	const char	*const *p;
	char		 sep[2] = { ops->ref_sep, '\0' };
	size_t		 n, head, nurl = strlen(url);
	long long	 nr;
	int		 ours;

	*ref = NULL;
	if (ops->issue_paths == NULL || ops->ref_of == NULL)
		return TRACKER_NAMED_BAD;
	while (isspace((unsigned char)*text))
		text++;
	n = strlen(text);
	/* A URL may end in a slash, a query or a fragment ("#note_1"). */
	if (strncasecmp(text, "https://", 8) == 0 ||
	    strncasecmp(text, "http://", 7) == 0)
		n = strcspn(text, "?#");
	while (n > 0 && (isspace((unsigned char)text[n - 1]) ||
	    text[n - 1] == '/'))
		n--;
	while (nurl > 0 && url[nurl - 1] == '/')
		nurl--;
	for (head = n; head > 0 && isdigit((unsigned char)text[head - 1]);
	    head--)
		;
	if (head == n || n - head > 15 || text[head] == '0')
		return TRACKER_NAMED_BAD;
	nr = strtoll(text + head, NULL, 10);
	ours = spells(text, head, name, sep) ||
	    (ops->ref_sep == '#' && spells(text, head, "", sep));
	for (p = ops->issue_paths; !ours && *p != NULL; p++)
		ours = head == nurl + strlen(*p) &&
		    strncasecmp(text, url, nurl) == 0 &&
		    spells(text + nurl, head - nurl, "", *p);
	if (ours)
		return (*ref = ops->ref_of(t, name, nr)) != NULL ?
		    TRACKER_NAMED_OK : TRACKER_NAMED_ENOMEM;
	if (ends_in(text, head, sep))
		return TRACKER_NAMED_ELSEWHERE;
	for (p = ops->issue_paths; *p != NULL; p++)
		if (ends_in(text, head, *p))
			return TRACKER_NAMED_ELSEWHERE;
	return TRACKER_NAMED_BAD;
}

const char *
tracker_issue_class(const struct tracker_issue *i)
{
	const char	*c = i->state_class != NULL ? i->state_class : i->state;

	return c != NULL && strcmp(c, "closed") == 0 ? "closed" : "opened";
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

int
tracker_issue_labels(struct tracker_issue *i, const cJSON *array)
{
	const cJSON	*it;
	const char	*name;
	size_t		 n = 0;

	i->labels = calloc((size_t)cJSON_GetArraySize(array) + 1,
	    sizeof(char *));
	if (i->labels == NULL)
		return -1;
	cJSON_ArrayForEach(it, array) {
		name = cJSON_IsString(it) ? it->valuestring :
		    cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"));
		if (name == NULL)
			continue;
		if ((i->labels[n] = strdup(name)) == NULL)
			return -1;
		i->nlabels = ++n;
	}
	return 0;
}

int
tracker_strdup(char **dst, const char *s)
{
	*dst = NULL;
	return s != NULL && (*dst = strdup(s)) == NULL ? -1 : 0;
}

int
tracker_json_id(const cJSON *j, const char *path, char **out)
{
	long long	 v;
	char		 s[32];

	*out = NULL;
	if (json_int(j, path, 1, INT64_MAX, &v) == -1)
		return -1;
	snprintf(s, sizeof(s), "%lld", v);
	return (*out = strdup(s)) != NULL ? 0 : -1;
}

enum http_err
tracker_call_id(struct tracker *t, const char *method, const char *url,
    const cJSON *body, char **id)
{
	cJSON		*j = NULL;
	enum http_err	 e;

	*id = NULL;
	e = upstream_call(&t->up, method, url, body, &j);
	if (e == HTTP_OK && tracker_json_id(j, "id", id) == -1) {
		snprintf(t->up.err, sizeof(t->up.err), "%s answered without "
		    "an id", t->ops->kind);
		e = HTTP_ESERVER;
	}
	cJSON_Delete(j);
	return e;
}

enum http_err
tracker_self(struct tracker *t)
{
	struct buf	 u;
	enum http_err	 e;

	if (t->self_id != NULL)
		return HTTP_OK;
	buf_init(&u, 8192);
	if (buf_printf(&u, "%s/user", t->base) == -1) {
		buf_release(&u);
		return HTTP_EINTERNAL;
	}
	e = tracker_call_id(t, "GET", buf_str(&u), NULL, &t->self_id);
	buf_release(&u);
	return e;
}

int
tracker_own(const struct tracker *t, const struct tracker_issue *i)
{
	return i->author != NULL && t->self_id != NULL &&
	    strcmp(i->author, t->self_id) == 0;
}

int
tracker_pick_marked(const struct tracker *t, const cJSON *page,
    const struct tracker_pick *k, struct tracker_issue *out)
{
	const cJSON	*it;
	struct tracker_issue iss;

	cJSON_ArrayForEach(it, page) {
		if (!k->names(it, k->marker))
			continue;
		if (k->read(t, it, &iss) == -1)
			return -1;
		if (tracker_own(t, &iss) &&
		    (k->fits == NULL || k->fits(&iss, k->arg))) {
			*out = iss;
			return 1;
		}
		tracker_issue_release(&iss);
	}
	return 0;
}

enum http_err
tracker_delete_in(struct tracker *t, struct buf *u, const char *id)
{
	enum http_err	 e = HTTP_EINTERNAL;

	if (http_escape_segment(u, id) == 0)
		e = upstream_call(&t->up, "DELETE", buf_str(u), NULL, NULL);
	buf_release(u);
	return e;
}

void
tracker_delivery_key(struct tracker_delivery *d, const char *key)
{
	size_t	 n = key != NULL ? strlen(key) : 0;

	if (n > 0 && n < sizeof(d->dedupe) && util_text_ok(key, n))
		memcpy(d->dedupe, key, n + 1);
}
