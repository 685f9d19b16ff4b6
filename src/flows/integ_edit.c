/*
 * integ_edit: changing an existing integration (the admin's edit form).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "flows/conn.h"
#include "flows/ctx.h"
#include "flows/integ.h"
#include "trackers/tracker.h"

#define MAX_LABEL	255

static int
one_of(const char *s, const char *a, const char *b, const char *c)
{
	return s != NULL && (strcmp(s, a) == 0 || strcmp(s, b) == 0 ||
	    strcmp(s, c) == 0);
}

/* A state the tracker has: one of its fixed states, or a status name. */
static int
state_ok(const char *s, const char *const *states)
{
	size_t	 n;

	if (s == NULL || (n = strlen(s)) == 0 || n > MAX_LABEL ||
	    !util_text_ok(s, n))
		return 0;
	for (; states != NULL && *states != NULL; states++)
		if (strcmp(s, *states) == 0)
			return 1;
	return states == NULL;
}

/* A tracker label we may add and remove: text without commas. */
static int
label_ok(const char *l)
{
	size_t	 n = strlen(l);

	return n <= MAX_LABEL && util_text_ok(l, n) && strchr(l, ',') == NULL;
}

int
integ_status_map_ok(const char *json, const char *const *states, char *err,
    size_t len)
{
	cJSON		*j;
	const cJSON	*tg, *tp, *it, *v;
	const char	*s;
	int		 rc = -1;

	if ((j = json_parse(json, strlen(json))) == NULL ||
	    !cJSON_IsObject(j)) {
		snprintf(err, len, "The status mapping is not valid.");
		goto out;
	}
	cJSON_ArrayForEach(it, j)
		if (strcmp(it->string, "to_tracker") != 0 &&
		    strcmp(it->string, "to_productboard") != 0) {
			/* A misspelt key would leave the mapping off unseen. */
			snprintf(err, len, "The status mapping has only "
			    "to_tracker and to_productboard.");
			goto out;
		}
	tg = cJSON_GetObjectItemCaseSensitive(j, "to_tracker");
	tp = cJSON_GetObjectItemCaseSensitive(j, "to_productboard");
	if ((tg != NULL && !cJSON_IsObject(tg)) ||
	    (tp != NULL && !cJSON_IsObject(tp))) {
		snprintf(err, len, "The status mapping is not valid.");
		goto out;
	}
	cJSON_ArrayForEach(it, tg) {
		s = cJSON_GetStringValue(cJSON_GetObjectItem(it, "state"));
		v = cJSON_GetObjectItem(it, "label");
		if (!cJSON_IsObject(it) || strlen(it->string) > 64 ||
		    !state_ok(s, states)) {
			snprintf(err, len, states != NULL ? "Each Productboard "
			    "status must map to open or closed." : "Each "
			    "Productboard status must map to a status of the "
			    "workflow.");
			goto out;
		}
		if (v != NULL && (!cJSON_IsString(v) ||
		    !label_ok(v->valuestring))) {
			snprintf(err, len, "A scoped label must be at most %d "
			    "characters without commas or control characters.",
			    MAX_LABEL);
			goto out;
		}
	}
	cJSON_ArrayForEach(it, tp)
		if (!state_ok(it->string, states) ||
		    !cJSON_IsString(it) || strlen(it->valuestring) > 64) {
			snprintf(err, len, "The status mapping is not valid.");
			goto out;
		}
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}

/*
 * 1 if s names a status of the workflow's list, or with groups one of
 * their categories, or is a class.
 */
static int
known_state(const cJSON *list, const char *s, int groups)
{
	const cJSON	*it;

	if (s == NULL)
		return 0;
	if (strcmp(s, "opened") == 0 || strcmp(s, "closed") == 0)
		return 1;
	cJSON_ArrayForEach(it, list)
		if (strcmp(s, json_str_or_empty(it, "name", 255)) == 0 ||
		    (groups && strcmp(s, json_str_or_empty(it, "group",
		    32)) == 0))
			return 1;
	return 0;
}

/* The list's names (or categories), each once, ", " between, into b. */
static void
state_names(const cJSON *list, const char *field, struct buf *b)
{
	const cJSON	*it, *pr;
	const char	*v;

	cJSON_ArrayForEach(it, list) {
		v = json_str_or_empty(it, field, 255);
		for (pr = list->child; pr != it && strcmp(v,
		    json_str_or_empty(pr, field, 255)) != 0; pr = pr->next)
			;
		if (*v != '\0' && pr == it)
			buf_printf(b, "%s%s", b->len > 0 ? ", " : "", v);
	}
}

int
integ_status_map_known(struct tracker *t, const char *json, char *err,
    size_t len)
{
	cJSON		*map = NULL, *list = NULL;
	const cJSON	*it;
	const char	*bad = NULL, *s, *who = t->ops->title;
	struct buf	 names, groups;
	int		 back = 0, rc = -1;

	if (t->ops->statuses == NULL || json == NULL || *json == '\0')
		return 0;
	buf_init(&names, 4096);
	buf_init(&groups, 512);
	if ((map = json_parse(json, strlen(json))) == NULL) {
		snprintf(err, len, "The status mapping is not valid.");
		goto out;
	}
	if (t->ops->statuses(t, &list) != HTTP_OK) {
		snprintf(err, len, "The %s statuses could not be read (%s); "
		    "try again.", who, t->up.err);
		goto out;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(map,
	    "to_tracker")) {
		s = cJSON_GetStringValue(cJSON_GetObjectItem(it, "state"));
		if (bad == NULL && !known_state(list, s, 0))
			bad = s != NULL ? s : "";
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(map,
	    "to_productboard"))
		if (bad == NULL && !known_state(list, it->string, 1)) {
			bad = it->string;
			back = 1;
		}
	if (bad == NULL) {
		rc = 0;
		goto out;
	}
	state_names(list, "name", &names);
	state_names(list, "group", &groups);
	if (back)
		snprintf(err, len, "\"%.80s\" is not a status of the %s "
		    "workflow (%.300s), nor one of its status categories "
		    "(%.100s), nor opened or closed.", bad, who, buf_str(&names),
		    buf_str(&groups));
	else
		snprintf(err, len, "\"%.80s\" is not a status of the %s "
		    "workflow (%.300s), nor opened or closed.", bad, who,
		    buf_str(&names));
out:
	buf_release(&names);
	buf_release(&groups);
	cJSON_Delete(list);
	cJSON_Delete(map);
	return rc;
}

/* Checks the fields f sets; 0 or -1 with err. */
static int
check_fields(const struct integ_form *f, char *err, size_t len)
{
	char	*cut = NULL;
	int	 bad_label;

	if (f->name != NULL && (*f->name == '\0' || strlen(f->name) > 200 ||
	    !util_text_ok(f->name, strlen(f->name)))) {
		snprintf(err, len, "The name must be 1 to 200 characters.");
		return -1;
	}
	if (f->column_label != NULL) {
		cut = *f->column_label != '\0' &&
		    util_text_ok(f->column_label, strlen(f->column_label)) ?
		    conn_cut(f->column_label, 10) : NULL;
		bad_label = cut == NULL || strcmp(cut, f->column_label) != 0;
		free(cut);
		if (bad_label) {
			snprintf(err, len, "The column label must be 1 to 10 "
			    "characters.");
			return -1;
		}
	}
	if (f->pb_token != NULL && strlen(f->pb_token) > 4096) {
		snprintf(err, len, "The Productboard token is too long.");
		return -1;
	}
	if (f->tracker_token != NULL && strlen(f->tracker_token) > 1024) {
		snprintf(err, len, "The tracker token is too long.");
		return -1;
	}
	return integ_choices_ok(f, NULL, err, len);
}

int
integ_choices_ok(const struct integ_form *f, const char *const *states,
    char *err, size_t len)
{
	if (f->conflict_policy != NULL && !one_of(f->conflict_policy,
	    "latest", "productboard", "tracker")) {
		snprintf(err, len, "Choose how conflicts are resolved.");
		return -1;
	}
	if (f->delete_policy != NULL && !one_of(f->delete_policy, "keep",
	    "close", "label")) {
		snprintf(err, len, "Choose what happens to an issue when its "
		    "feature is deleted.");
		return -1;
	}
	if (f->status_map != NULL && *f->status_map != '\0')
		return integ_status_map_ok(f->status_map, states, err, len);
	return 0;
}

/* Validates a new Productboard token with a read call: 0 or -1. */
static int
check_pb_token(struct pb *pb, char *err, size_t len)
{
	cJSON		*st = NULL;
	enum http_err	 e;

	e = pb_statuses(pb, &st);
	cJSON_Delete(st);
	if (e == HTTP_OK)
		return 0;
	if (e == HTTP_ECLIENT && pb->up.status == 401)
		snprintf(err, len, "Productboard rejected the new token.");
	else if (e == HTTP_ECLIENT)
		snprintf(err, len, "The new Productboard token may not read "
		    "features (HTTP %ld).", pb->up.status);
	else
		snprintf(err, len, "Productboard could not be reached (%s); "
		    "try again.", http_strerror(e));
	return -1;
}

/*
 * Validates a new tracker token (or the token with new settings: what) on
 * the integration's project, which must manage its webhook unless it was
 * set up by hand: 0 or -1.
 */
static int
check_tr_token(struct tracker *tr, const char *project, const char *what,
    int by_hand, char *err, size_t len)
{
	struct tracker_project p;
	const char	*who = tr->ops->title;
	enum http_err	 e;
	int		 rc = -1;

	e = tracker_project(tr, project, &p);
	if (e == HTTP_ECLIENT && tr->up.status == 401)
		snprintf(err, len, "%s rejected the %s.", who, what);
	else if (e == HTTP_ECLIENT && tr->up.status == 404)
		snprintf(err, len, "With the %s, %s cannot see the project of "
		    "this integration.", what, who);
	else if (e != HTTP_OK)
		snprintf(err, len, "%s could not be reached (%s); try again.",
		    who, http_strerror(e));
	else if (!p.can_write)
		snprintf(err, len, "%s %s.", tr->ops->need_write, p.name);
	else if (!p.can_hook && !by_hand)
		snprintf(err, len, "%s %s.", tr->ops->need_hook, p.name);
	else
		rc = 0;
	if (e == HTTP_OK)
		tracker_project_release(&p);
	return rc;
}

/*
 * The integration's settings kept with those given changed, which must
 * be settings that go with the token (tracker_option.with_token): a heap
 * JSON object, *changed 1 if a value is not the one kept; or NULL with
 * err.
 */
static char *
new_options(const struct tracker_ops *ops, const char *kept,
    const char *given, int *changed, char *err, size_t len)
{
	const struct tracker_option *o;
	cJSON		*k = json_parse(kept, strlen(kept));
	cJSON		*g = json_parse(given, strlen(given));
	const cJSON	*it;
	const char	*v;
	char		*out = NULL;

	if (!cJSON_IsObject(k) || !cJSON_IsObject(g)) {
		snprintf(err, len, "The %s settings are not valid.", ops->title);
		goto out;
	}
	cJSON_ArrayForEach(it, g) {
		for (o = ops->options; o != NULL && o->name != NULL &&
		    strcmp(o->name, it->string) != 0; o++)
			;
		if (o == NULL || o->name == NULL || !o->with_token ||
		    !cJSON_IsString(it)) {
			snprintf(err, len, "The %s setting \"%.40s\" cannot be "
			    "changed: create another integration for another "
			    "one.", ops->title, it->string);
			goto out;
		}
		v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k,
		    it->string));
		if (strcmp(it->valuestring, v != NULL ? v : o->def != NULL ?
		    o->def : "") != 0)
			*changed = 1;
		cJSON_DeleteItemFromObjectCaseSensitive(k, it->string);
		cJSON_AddStringToObject(k, it->string, it->valuestring);
	}
	if ((out = json_print(k)) == NULL)
		snprintf(err, len, "Out of memory.");
	else if (tracker_options_ok(ops, out, err, len) == -1) {
		free(out);
		out = NULL;
	}
out:
	cJSON_Delete(k);
	cJSON_Delete(g);
	return out;
}

int
integ_hook_by_hand(const struct store_integration *in)
{
	return in->tracker_hook_id != NULL &&
	    strcmp(in->tracker_hook_id, INTEG_HOOK_BY_HAND) == 0;
}

/* Replaces *dst with a copy of src when src is set: 0 or -1. */
static int
replace(char **dst, const char *src)
{
	char	*s;

	if (src == NULL)
		return 0;
	if ((s = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

/* Seals token into the row's field and its tail: 0 or -1. */
static int
seal(struct app *a, const char *id, const char *field, const char *token,
    char **sealed, char **tail)
{
	char	 ad[64], *s, *t;
	size_t	 n = strlen(token);

	snprintf(ad, sizeof(ad), "%s:%s", id, field);
	if ((s = crypto_seal(&a->key, token, ad)) == NULL)
		return -1;
	if ((t = strdup(n > 8 ? token + n - 4 : "")) == NULL) {
		free(s);
		return -1;
	}
	free(*sealed);
	free(*tail);
	*sealed = s;
	*tail = t;
	return 0;
}

int
integ_update(struct app *a, const char *id, const struct integ_form *f,
    char *err, size_t len)
{
	struct ctx	 c;
	struct pb	 npb, *pb;
	struct tracker	 ntr;
	char		*old_label = NULL, *opts = NULL, *kept_token = NULL;
	const char	*pbt, *trt;
	int		 rc = -1, npb_ok = 0, ntr_ok = 0, patched = 0, lrc;
	int		 new_opts = 0;
	enum http_err	 e;

	memset(&c, 0, sizeof(c));
	pbt = f->pb_token != NULL && *f->pb_token != '\0' ? f->pb_token : NULL;
	trt = f->tracker_token != NULL && *f->tracker_token != '\0' ?
	    f->tracker_token : NULL;
	if (check_fields(f, err, len) == -1)
		return -1;
	if (!a->key.loaded) {
		snprintf(err, len, "The key file is not readable: tokens "
		    "cannot be used.");
		return -1;
	}
	if ((lrc = ctx_load(&c, a, id)) != 0) {
		snprintf(err, len, lrc == STORE_NOTFOUND ? "This integration "
		    "does not exist any more." : "The integration cannot be "
		    "loaded (wrong key file?): see the log.");
		return -1;
	}
	if (f->status_map != NULL && *f->status_map != '\0' &&
	    integ_status_map_ok(f->status_map, c.tr.ops->states, err,
	    len) == -1)
		goto out;
	if (f->tracker_options != NULL && *f->tracker_options != '\0' &&
	    (opts = new_options(c.tr.ops, c.in.tracker_options,
	    f->tracker_options, &new_opts, err, len)) == NULL)
		goto out;
	pb = &c.pb;
	if (pbt != NULL) {
		if (pb_init(&npb, a, pbt) == -1) {
			snprintf(err, len, "The new Productboard token is not "
			    "valid.");
			goto out;
		}
		npb_ok = 1;
		pb = &npb;
		if (check_pb_token(&npb, err, len) == -1)
			goto out;
	}
	/* The settings that say whose the token is go with it. */
	if (trt == NULL && new_opts && (trt = kept_token = ctx_open_sealed(a,
	    c.in.id, "tracker_token", c.in.tracker_token)) == NULL) {
		snprintf(err, len, "The saved %s token cannot be decrypted: "
		    "see the log.", c.tr.ops->title);
		goto out;
	}
	if (trt != NULL) {
		if (tracker_open(&ntr, a, c.in.tracker_kind, c.in.tracker_url,
		    trt, NULL, new_opts ? opts : c.in.tracker_options) == -1) {
			snprintf(err, len, "The new %s token is not valid.",
			    c.tr.ops->title);
			goto out;
		}
		ntr_ok = 1;
		if (check_tr_token(&ntr, c.in.tracker_project, kept_token ==
		    NULL ? "new token" : "token with the new settings",
		    integ_hook_by_hand(&c.in), err, len) == -1)
			goto out;
	}
	if (f->status_map != NULL && integ_status_map_known(ntr_ok ? &ntr :
	    &c.tr, f->status_map, err, len) == -1)
		goto out;
	/*
	 * The label goes upstream first; with a new Productboard token the
	 * PATCH also proves the token sees this workspace's plugin.
	 */
	if (c.in.pb_plugin_id != NULL && (pbt != NULL ||
	    (f->column_label != NULL &&
	    strcmp(f->column_label, c.in.column_label) != 0))) {
		e = pb_plugin_patch_label(pb, c.in.pb_plugin_id,
		    f->column_label != NULL ? f->column_label :
		    c.in.column_label);
		if (e == HTTP_ECLIENT && pb->up.status == 404) {
			snprintf(err, len, pbt != NULL ? "The new Productboard "
			    "token cannot see this integration's plugin column: "
			    "is it from another workspace?" : "The plugin "
			    "column of this integration is gone from "
			    "Productboard: delete the integration and create "
			    "it again.");
			goto out;
		}
		if (e != HTTP_OK) {
			snprintf(err, len, "Productboard refused the new column "
			    "label: %s", pb->up.err);
			goto out;
		}
		patched = f->column_label != NULL &&
		    strcmp(f->column_label, c.in.column_label) != 0;
	}
	if ((old_label = strdup(c.in.column_label)) == NULL ||
	    replace(&c.in.name, f->name) == -1 ||
	    replace(&c.in.column_label, f->column_label) == -1 ||
	    replace(&c.in.conflict_policy, f->conflict_policy) == -1 ||
	    replace(&c.in.delete_policy, f->delete_policy) == -1 ||
	    (f->status_map != NULL && *f->status_map != '\0' &&
	    replace(&c.in.status_map, f->status_map) == -1) ||
	    (pbt != NULL && seal(a, c.in.id, "pb_token", pbt, &c.in.pb_token,
	    &c.in.pb_token_tail) == -1) ||
	    (kept_token == NULL && trt != NULL && seal(a, c.in.id,
	    "tracker_token", trt, &c.in.tracker_token,
	    &c.in.tracker_token_tail) == -1) ||
	    (new_opts && replace(&c.in.tracker_options, opts) == -1) ||
	    store_integration_update(&a->store, &c.in) != 0) {
		snprintf(err, len, "The change could not be saved: see the log.");
		if (patched && old_label != NULL)
			pb_plugin_patch_label(pb, c.in.pb_plugin_id, old_label);
		goto out;
	}
	if (pbt != NULL || trt != NULL)
		store_integration_set_auth_failed(&a->store, c.in.id, NULL);
	log_info("integration %s edited%s%s%s%s", c.in.id, patched ?
	    ", new label" : "", pbt != NULL ? ", new productboard token" : "",
	    kept_token == NULL && trt != NULL ? ", new tracker token" : "",
	    new_opts ? ", new tracker settings" : "");
	rc = 0;
out:
	if (npb_ok)
		pb_release(&npb);
	if (ntr_ok)
		tracker_close(&ntr);
	crypto_free_secret(kept_token);
	free(opts);
	free(old_label);
	ctx_close(&c);
	return rc;
}
