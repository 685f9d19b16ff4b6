#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/util.h"
#include "flows/conn.h"
#include "flows/ctx.h"
#include "flows/integ.h"
#include "flows/sync.h"
#include "trackers/tracker.h"

struct secrets {
	char	 plugin[CRYPTO_SECRET_LEN + 8];	/* "Bearer " + secret */
	char	 pbhook[CRYPTO_SECRET_LEN + 8];
	char	 trhook[CRYPTO_SECRET_LEN + 1];
};

static void
make_secrets(struct secrets *s)
{
	char	 raw[CRYPTO_SECRET_LEN + 1];

	crypto_random_secret(raw);
	snprintf(s->plugin, sizeof(s->plugin), "Bearer %s", raw);
	crypto_random_secret(raw);
	snprintf(s->pbhook, sizeof(s->pbhook), "Bearer %s", raw);
	crypto_random_secret(s->trhook);
	crypto_wipe(raw, sizeof(raw));
}

/* The tracker the form names, or NULL with err set. */
static const struct tracker_ops *
form_tracker(const struct integ_form *f, char *err, size_t len)
{
	const struct tracker_ops *ops;

	/* The first backend registered is the default. */
	ops = f->tracker_kind != NULL && *f->tracker_kind != '\0' ?
	    tracker_find(f->tracker_kind) : tracker_kinds[0];
	if (ops == NULL)
		snprintf(err, len, "Choose a tracker pbsync knows.");
	return ops;
}

/* The URL the form gives, or the tracker's default. */
static const char *
form_url(const struct integ_form *f, const struct tracker_ops *ops)
{
	return f->tracker_url != NULL && *f->tracker_url != '\0' ?
	    f->tracker_url : ops->url_default;
}

/* The tracker's fields of the form: token, project, URL, settings. */
static int
check_tracker_fields(const struct app *a, const struct integ_form *f,
    const struct tracker_ops *ops, char *err, size_t len)
{
	const char	*url = form_url(f, ops);

	if (f->tracker_token == NULL || *f->tracker_token == '\0' ||
	    strlen(f->tracker_token) > 1024 ||
	    !util_text_ok(f->tracker_token, strlen(f->tracker_token)))
		snprintf(err, len, "Enter a %s access token.", ops->title);
	else if (f->tracker_project == NULL || *f->tracker_project == '\0' ||
	    strlen(f->tracker_project) > 255 ||
	    !util_text_ok(f->tracker_project, strlen(f->tracker_project)))
		snprintf(err, len, "Enter the %s: %s.", ops->title,
		    ops->project_label);
	else if (strlen(url) > 1024 ||
	    http_url_allowed(url, a->conf.allow_private_upstreams) == -1 ||
	    (!a->conf.allow_private_upstreams && http_url_local(url)))
		snprintf(err, len, "The %s URL must be an https:// URL of a "
		    "public host.", ops->title);
	else if (f->hook_by_hand && ops->hook_by_hand == NULL)
		snprintf(err, len, "pbsync registers the %s webhook itself: it "
		    "cannot be set up by hand.", ops->title);
	else
		return tracker_options_ok(ops, f->tracker_options, err, len);
	return -1;
}

static int
check_form(const struct app *a, const struct integ_form *f,
    const struct tracker_ops *ops, char *err, size_t len)
{
	size_t		 n;
	char		*cut;

	if (f->name == NULL || (n = strlen(f->name)) == 0 || n > 200 ||
	    !util_text_ok(f->name, n))
		snprintf(err, len, "The name must be 1 to 200 characters.");
	else if (f->column_label == NULL || *f->column_label == '\0' ||
	    (cut = conn_cut(f->column_label, 10)) == NULL ||
	    (strcmp(cut, f->column_label) != 0 ? (free(cut), 1) :
	    (free(cut), 0)))
		snprintf(err, len, "The column label must be 1 to 10 "
		    "characters.");
	else if (f->pb_token == NULL || *f->pb_token == '\0' ||
	    strlen(f->pb_token) > 4096 ||
	    !util_text_ok(f->pb_token, strlen(f->pb_token)))
		snprintf(err, len, "Enter a Productboard API token.");
	else if (check_tracker_fields(a, f, ops, err, len) == 0)
		return integ_choices_ok(f, ops->states, err, len);
	return -1;
}

/* Why the project the admin named was not found, in err: -1. */
static int
project_refused(const struct tracker *tr, enum http_err e, const char *given,
    char *err, size_t len)
{
	const char	*who = tr->ops->title;

	if (e == HTTP_ECLIENT && tr->up.status == 401)
		snprintf(err, len, "%s rejected the token.", who);
	else if (e == HTTP_ECLIENT && tr->up.status == 404)
		snprintf(err, len, "%s project \"%s\" does not exist or the "
		    "token cannot see it.", who, given);
	else if (e == HTTP_ECLIENT && tr->up.status == 422)
		snprintf(err, len, "%s.", tr->up.err);	/* the backend's words */
	else
		snprintf(err, len, "%s could not be reached (%s); try again.",
		    who, http_strerror(e));
	return -1;
}

/* Validates both tokens and finds the project. */
static int
check_upstreams(struct app *a, const struct integ_form *f,
    const struct tracker_ops *ops, struct tracker_project *tp,
    char **status_map, char *err, size_t len)
{
	struct pb	 pb;
	struct tracker	 tr;
	const char	*who = ops->title;
	cJSON		*st = NULL;
	enum http_err	 e;
	int		 rc = -1;

	if (pb_init(&pb, a, f->pb_token) == -1) {
		snprintf(err, len, "The Productboard token is not valid.");
		return -1;
	}
	e = pb_statuses(&pb, &st);
	if (e == HTTP_OK && (f->status_map == NULL || *f->status_map == '\0'))
		*status_map = sync_default_status_map(st);
	cJSON_Delete(st);
	if (e == HTTP_ECLIENT && pb.up.status == 401)
		snprintf(err, len, "Productboard rejected the token.");
	else if (e == HTTP_ECLIENT)
		snprintf(err, len, "The Productboard token may not read "
		    "features (HTTP %ld).", pb.up.status);
	else if (e != HTTP_OK)
		snprintf(err, len, "Productboard could not be reached (%s); "
		    "try again.", http_strerror(e));
	if (e != HTTP_OK) {
		pb_release(&pb);
		return -1;
	}
	pb_release(&pb);
	if (tracker_open(&tr, a, ops->kind, form_url(f, ops), f->tracker_token,
	    NULL, f->tracker_options) == -1) {
		snprintf(err, len, "The %s token is not valid.", who);
		return -1;
	}
	e = tracker_project(&tr, f->tracker_project, tp);
	if (e != HTTP_OK)
		project_refused(&tr, e, f->tracker_project, err, len);
	else if (!tp->can_write)
		snprintf(err, len, "%s %s.", ops->need_write, tp->name);
	else if (!tp->can_hook && !f->hook_by_hand)
		snprintf(err, len, "%s %s.", ops->need_hook, tp->name);
	else
		rc = integ_status_map_known(&tr, f->status_map, err, len);
	tracker_close(&tr);
	return rc;
}

int
integ_statuses(struct app *a, const struct integ_form *f, cJSON **out,
    char *err, size_t len)
{
	const struct tracker_ops *ops;
	struct tracker_project tp;
	struct tracker	 tr;
	enum http_err	 e;
	int		 rc = -1;

	*out = NULL;
	if ((ops = form_tracker(f, err, len)) == NULL)
		return -1;
	if (ops->statuses == NULL)
		return 0;
	if (check_tracker_fields(a, f, ops, err, len) == -1)
		return -1;
	if (tracker_open(&tr, a, ops->kind, form_url(f, ops), f->tracker_token,
	    NULL, f->tracker_options) == -1) {
		snprintf(err, len, "The %s token is not valid.", ops->title);
		return -1;
	}
	if ((e = tracker_project(&tr, f->tracker_project, &tp)) != HTTP_OK)
		project_refused(&tr, e, f->tracker_project, err, len);
	else if ((e = ops->statuses(&tr, out)) != HTTP_OK)
		snprintf(err, len, "The %s statuses could not be read: %s",
		    ops->title, tr.up.err);
	else
		rc = 0;
	tracker_project_release(&tp);
	tracker_close(&tr);
	return rc;
}

/*
 * The tracker webhook's secret as the row keeps it: a signing tracker
 * needs the secret itself, sealed; else its hash will do.  Heap, or NULL.
 */
static char *
hook_secret_kept(struct app *a, const struct tracker_ops *ops,
    const char *id, const char *secret)
{
	char	 ad[64], h[CRYPTO_HASH_LEN + 1];

	snprintf(ad, sizeof(ad), "%s:tracker_hook_secret", id);
	if (ops->auth == TRACKER_AUTH_HMAC_SHA256)
		return crypto_seal(&a->key, secret, ad);
	crypto_digest(secret, h);
	return strdup(h);
}

/* Fills the row with sealed tokens and hashed secrets. */
static int
make_row(struct app *a, const struct integ_form *f, const char *map,
    const struct tracker_ops *ops, const struct tracker_project *tp,
    const struct secrets *sec, struct store_integration *in)
{
	char	 ad[64], h1[CRYPTO_HASH_LEN + 1], h2[CRYPTO_HASH_LEN + 1];
	size_t	 pl = strlen(f->pb_token), tl = strlen(f->tracker_token);

	memset(in, 0, sizeof(*in));
	crypto_random_id(in->id);
	snprintf(ad, sizeof(ad), "%s:pb_token", in->id);
	in->pb_token = crypto_seal(&a->key, f->pb_token, ad);
	snprintf(ad, sizeof(ad), "%s:tracker_token", in->id);
	in->tracker_token = crypto_seal(&a->key, f->tracker_token, ad);
	in->pb_token_tail = strdup(pl > 8 ? f->pb_token + pl - 4 : "");
	in->tracker_token_tail = strdup(tl > 8 ? f->tracker_token + tl - 4 :
	    "");
	crypto_digest(sec->plugin, h1);
	crypto_digest(sec->pbhook, h2);
	in->plugin_secret = strdup(h1);
	in->pb_hook_secret = strdup(h2);
	in->tracker_hook_secret = hook_secret_kept(a, ops, in->id, sec->trhook);
	in->name = strdup(f->name);
	in->column_label = strdup(f->column_label);
	in->tracker_kind = strdup(ops->kind);
	if ((in->tracker_url = strdup(form_url(f, ops))) != NULL)
		util_strip_trailing(in->tracker_url, '/');
	in->tracker_project = strdup(tp->id);
	in->tracker_project_name = strdup(tp->name);
	in->tracker_project_url = strdup(tp->web_url);
	in->tracker_options = strdup(f->tracker_options != NULL &&
	    *f->tracker_options != '\0' ? f->tracker_options : "{}");
	in->status_map = strdup(map != NULL ? map : f->status_map != NULL &&
	    *f->status_map != '\0' ? f->status_map : "{}");
	in->conflict_policy = strdup(f->conflict_policy ?
	    f->conflict_policy : "latest");
	in->delete_policy = strdup(f->delete_policy ?
	    f->delete_policy : "keep");
	if (in->pb_token == NULL || in->tracker_token == NULL ||
	    in->pb_token_tail == NULL || in->tracker_token_tail == NULL ||
	    in->plugin_secret == NULL || in->pb_hook_secret == NULL ||
	    in->tracker_hook_secret == NULL || in->name == NULL ||
	    in->column_label == NULL || in->tracker_kind == NULL ||
	    in->tracker_url == NULL || in->tracker_project == NULL ||
	    in->tracker_project_name == NULL ||
	    in->tracker_project_url == NULL || in->tracker_options == NULL ||
	    in->status_map == NULL || in->conflict_policy == NULL ||
	    in->delete_policy == NULL) {
		log_err("cannot build integration row (key file loaded: %d)",
		    a->key.loaded);
		store_integration_release(in);
		return -1;
	}
	return 0;
}

/* The URL the tracker's webhook of integration id delivers to. */
static void
hook_url(const struct app *a, const char *id, char *url, size_t len)
{
	snprintf(url, len, "%s/webhooks/gittab/%s", a->conf.public_url, id);
}

/*
 * Registers the three upstream objects (the tracker's webhook unless a
 * person sets it up by hand), undoing on failure.
 */
static int
register_upstream(struct ctx *c, const struct secrets *sec, int by_hand,
    char *err, size_t len)
{
	const char	*pub = c->app->conf.public_url;
	char		 url[1200], name[300], type[64];
	enum http_err	 e;

	snprintf(url, sizeof(url), "%s/plugin/%s", pub, c->in.id);
	/* One plugin type per tracker: a workspace tells the columns apart. */
	snprintf(type, sizeof(type), "com.pbsync.%s", c->in.tracker_kind);
	e = pb_plugin_create(&c->pb, type, c->in.name, c->in.column_label,
	    url, sec->plugin, &c->in.pb_plugin_id);
	if (e != HTTP_OK) {
		snprintf(err, len, "Productboard refused the plugin column: %s",
		    c->pb.up.err);
		return -1;
	}
	snprintf(url, sizeof(url), "%s/webhooks/productboard/%s", pub,
	    c->in.id);
	snprintf(name, sizeof(name), "pbsync: %s", c->in.name);
	e = pb_webhook_create(&c->pb, name, url, sec->pbhook,
	    &c->in.pb_webhook_id);
	if (e != HTTP_OK) {
		snprintf(err, len, "Productboard refused the webhook: %s",
		    c->pb.up.err);
		goto undo_plugin;
	}
	hook_url(c->app, c->in.id, url, sizeof(url));
	if (by_hand) {
		if ((c->in.tracker_hook_id = strdup(INTEG_HOOK_BY_HAND)) !=
		    NULL)
			return 0;
		snprintf(err, len, "Out of memory.");
		goto undo_webhook;
	}
	e = c->tr.ops->hook_create(&c->tr, url, sec->trhook,
	    &c->in.tracker_hook_id);
	/* A 403 that is a rate limit (GitHub's secondary one) is not a right. */
	if (e == HTTP_ERATE)
		snprintf(err, len, "%s is limiting this token's calls: try again "
		    "in %ld s.", c->tr.ops->title, c->tr.up.retry_after > 0 ?
		    c->tr.up.retry_after : 60);
	else if (e != HTTP_OK && c->tr.up.status == 403)
		snprintf(err, len, "%s %s.", c->tr.ops->need_hook,
		    c->in.tracker_project_name);
	else if (e != HTTP_OK && c->tr.up.status == 422)
		snprintf(err, len, "%s refused the hook URL %s (is the pbsync "
		    "public URL reachable from %s?)", c->tr.ops->title, url,
		    c->tr.ops->title);
	else if (e != HTTP_OK)
		snprintf(err, len, "%s refused the webhook: %s",
		    c->tr.ops->title, c->tr.up.err);
	if (e != HTTP_OK)
		goto undo_webhook;
	return 0;
undo_webhook:
	pb_webhook_delete(&c->pb, c->in.pb_webhook_id);
undo_plugin:
	pb_plugin_delete(&c->pb, c->in.pb_plugin_id);
	return -1;
}

int
integ_create(struct app *a, const struct integ_form *f, char id[33],
    char *err, size_t len)
{
	const struct tracker_ops *ops;
	struct tracker_project tp;
	struct store_integration in;
	struct secrets	 sec;
	struct ctx	 c;
	char		*map = NULL;
	int		 rc = -1;

	memset(&tp, 0, sizeof(tp));
	memset(&c, 0, sizeof(c));
	memset(&sec, 0, sizeof(sec));
	if ((ops = form_tracker(f, err, len)) == NULL ||
	    check_form(a, f, ops, err, len) == -1)
		return -1;
	if (!a->key.loaded || app_store(a) == -1) {
		snprintf(err, len, "pbsync is not initialised (key file or "
		    "database missing): run pbsyncctl init.");
		return -1;
	}
	if (check_upstreams(a, f, ops, &tp, &map, err, len) == -1)
		goto out;
	make_secrets(&sec);
	if (make_row(a, f, map, ops, &tp, &sec, &in) == -1) {
		snprintf(err, len, "Internal error: see the log.");
		goto out;
	}
	/* Stored first: the plugin probe must find its secret. */
	if (store_integration_insert(&a->store, &in) != 0) {
		store_integration_release(&in);
		snprintf(err, len, "The database refused the integration.");
		goto out;
	}
	if (ctx_open(&c, a, &in) == -1) {
		snprintf(err, len, "Internal error: see the log.");
		goto out;
	}
	if (register_upstream(&c, &sec, f->hook_by_hand, err, len) == -1 ||
	    store_integration_update(&a->store, &c.in) != 0) {
		store_integration_delete(&a->store, c.in.id);
		goto out;
	}
	memcpy(id, c.in.id, 33);
	if (f->hook_by_hand && f->hook_secret != NULL)
		memcpy(f->hook_secret, sec.trhook, sizeof(sec.trhook));
	log_info("integration %s created (%s project %s%s)", c.in.id,
	    ops->kind, tp.name, f->hook_by_hand ? ", its webhook set up by "
	    "hand" : "");
	rc = 0;
out:
	if (c.ready || c.in.name != NULL)
		ctx_close(&c);
	crypto_wipe(&sec, sizeof(sec));
	tracker_project_release(&tp);
	free(map);
	return rc;
}

/* One step of a delete: HTTP_OK and 404 both count as removed. */
static int
step(struct buf *report, const char *what, enum http_err e,
    const struct upstream *u)
{
	int	 gone = e == HTTP_OK || (e == HTTP_ECLIENT && u->status == 404);

	buf_printf(report, "%s: %s\n", what, e == HTTP_OK ? "removed" :
	    gone ? "already gone" : u->err);
	return gone ? 0 : -1;
}

int
integ_delete(struct app *a, const char *id, struct buf *report)
{
	struct tracker_hook_setup hs;
	struct ctx	 c;
	char		 what[64], url[1200];
	int		 rc, failed = 0;

	if ((rc = ctx_load(&c, a, id)) != 0) {
		buf_printf(report, "%s\n", rc == STORE_NOTFOUND ?
		    "no such integration" : "cannot load the integration");
		return -1;
	}
	if (c.in.pb_plugin_id != NULL)
		failed |= step(report, "Productboard plugin column",
		    pb_plugin_delete(&c.pb, c.in.pb_plugin_id), &c.pb.up);
	if (c.in.pb_webhook_id != NULL)
		failed |= step(report, "Productboard webhook",
		    pb_webhook_delete(&c.pb, c.in.pb_webhook_id), &c.pb.up);
	snprintf(what, sizeof(what), "%s webhook", c.tr.ops->title);
	if (integ_hook_by_hand(&c.in) && integ_hook_setup(a, &c.in, url,
	    sizeof(url), &hs) == 0)
		buf_printf(report, "%s: set up by hand: delete the one for %s "
		    "in %s\n", what, url, hs.where);
	else if (c.in.tracker_hook_id != NULL)
		failed |= step(report, what, c.tr.ops->hook_delete(&c.tr,
		    c.in.tracker_hook_id), &c.tr.up);
	if (!failed && store_integration_delete(&a->store, id) != 0)
		failed = 1;
	buf_printf(report, "pbsync records: %s\n", failed ? "kept (retry "
	    "the delete once the failures above are fixed)" : "removed");
	ctx_close(&c);
	return failed ? -1 : 0;
}

int
integ_hook_setup(const struct app *a, const struct store_integration *in,
    char *url, size_t len, struct tracker_hook_setup *hs)
{
	const struct tracker_ops *ops = tracker_find(in->tracker_kind);

	memset(hs, 0, sizeof(*hs));
	if (ops == NULL || ops->hook_by_hand == NULL ||
	    ops->hook_by_hand(in->tracker_project, hs) == -1)
		return -1;
	hook_url(a, in->id, url, len);
	return 0;
}

int
integ_hook_secret_new(struct app *a, const char *id,
    char secret[CRYPTO_SECRET_LEN + 1], char *err, size_t len)
{
	const struct tracker_ops *ops;
	struct store_integration in;
	char		*kept = NULL;
	int		 rc;

	if ((rc = store_integration_get(&a->store, id, &in)) != 0) {
		snprintf(err, len, rc == STORE_NOTFOUND ? "This integration "
		    "does not exist any more." : "The integration cannot be "
		    "read: see the log.");
		return -1;
	}
	rc = -1;
	if ((ops = tracker_find(in.tracker_kind)) == NULL ||
	    !integ_hook_by_hand(&in))
		snprintf(err, len, "pbsync registered this webhook: its secret "
		    "is pbsync's own.");
	else if (!a->key.loaded)
		snprintf(err, len, "The key file is not readable: no secret "
		    "can be kept.");
	else {
		crypto_random_secret(secret);
		if ((kept = hook_secret_kept(a, ops, in.id, secret)) == NULL) {
			snprintf(err, len, "Internal error: see the log.");
			goto out;
		}
		free(in.tracker_hook_secret);
		in.tracker_hook_secret = kept;
		if (store_integration_update(&a->store, &in) != 0)
			snprintf(err, len, "The new secret could not be saved: "
			    "see the log.");
		else {
			log_info("integration %s: a new secret for its webhook "
			    "set up by hand", in.id);
			rc = 0;
		}
	}
out:
	if (rc == -1)
		crypto_wipe(secret, CRYPTO_SECRET_LEN + 1);
	store_integration_release(&in);
	return rc;
}
