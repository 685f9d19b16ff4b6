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
#include "trackers/gitlab.h"

#define MAINTAINER	40

struct secrets {
	char	 plugin[CRYPTO_SECRET_LEN + 8];	/* "Bearer " + secret */
	char	 pbhook[CRYPTO_SECRET_LEN + 8];
	char	 glhook[CRYPTO_SECRET_LEN + 1];
};

static void
make_secrets(struct secrets *s)
{
	char	 raw[CRYPTO_SECRET_LEN + 1];

	crypto_random_secret(raw);
	snprintf(s->plugin, sizeof(s->plugin), "Bearer %s", raw);
	crypto_random_secret(raw);
	snprintf(s->pbhook, sizeof(s->pbhook), "Bearer %s", raw);
	crypto_random_secret(s->glhook);
	crypto_wipe(raw, sizeof(raw));
}

static int
check_form(const struct app *a, const struct integ_form *f, char *err,
    size_t len)
{
	size_t	 n;
	char	*cut;

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
	else if (f->gl_token == NULL || *f->gl_token == '\0' ||
	    strlen(f->gl_token) > 1024 ||
	    !util_text_ok(f->gl_token, strlen(f->gl_token)))
		snprintf(err, len, "Enter a GitLab access token.");
	else if (f->gl_project == NULL || *f->gl_project == '\0' ||
	    strlen(f->gl_project) > 255)
		snprintf(err, len, "Enter the GitLab project (numeric id or "
		    "group/project path).");
	else if (f->gl_base_url == NULL ||
	    http_url_allowed(f->gl_base_url, a->conf.allow_private_upstreams) ==
	    -1 || (!a->conf.allow_private_upstreams &&
	    http_url_local(f->gl_base_url)))
		snprintf(err, len, "The GitLab URL must be an https:// URL of a "
		    "public host.");
	else
		return integ_choices_ok(f, err, len);
	return -1;
}

/* Validates both tokens and finds the project. */
static int
check_upstreams(struct app *a, const struct integ_form *f,
    struct gitlab_project *gp, char **status_map, char *err, size_t len)
{
	struct pb	 pb;
	struct tracker	 tr;
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
	if (gitlab_open(&tr, a, f->gl_base_url, f->gl_token, 0) == -1) {
		snprintf(err, len, "The GitLab token is not valid.");
		return -1;
	}
	e = gitlab_project(&tr, f->gl_project, gp);
	if (e == HTTP_ECLIENT && tr.up.status == 401)
		snprintf(err, len, "GitLab rejected the token.");
	else if (e == HTTP_ECLIENT && tr.up.status == 404)
		snprintf(err, len, "GitLab project \"%s\" does not exist or "
		    "the token cannot see it.", f->gl_project);
	else if (e != HTTP_OK)
		snprintf(err, len, "GitLab could not be reached (%s); try "
		    "again.", http_strerror(e));
	else if (gp->access_level < MAINTAINER)
		snprintf(err, len, "The GitLab token cannot create project "
		    "hooks: it needs the Maintainer role on %s.", gp->path);
	else
		rc = 0;
	gitlab_close(&tr);
	return rc;
}

/* Fills the row with sealed tokens and hashed secrets. */
static int
make_row(struct app *a, const struct integ_form *f, const char *map,
    const struct gitlab_project *gp, const struct secrets *sec,
    struct store_integration *in)
{
	char	 ad[64], h1[CRYPTO_HASH_LEN + 1], h2[CRYPTO_HASH_LEN + 1],
		 h3[CRYPTO_HASH_LEN + 1];
	size_t	 pl = strlen(f->pb_token), gl = strlen(f->gl_token);

	memset(in, 0, sizeof(*in));
	crypto_random_id(in->id);
	snprintf(ad, sizeof(ad), "%s:pb_token", in->id);
	in->pb_token = crypto_seal(&a->key, f->pb_token, ad);
	snprintf(ad, sizeof(ad), "%s:gl_token", in->id);
	in->gl_token = crypto_seal(&a->key, f->gl_token, ad);
	in->pb_token_tail = strdup(pl > 8 ? f->pb_token + pl - 4 : "");
	in->gl_token_tail = strdup(gl > 8 ? f->gl_token + gl - 4 : "");
	crypto_digest(sec->plugin, h1);
	crypto_digest(sec->pbhook, h2);
	crypto_digest(sec->glhook, h3);
	in->plugin_secret = strdup(h1);
	in->pb_hook_secret = strdup(h2);
	in->gl_hook_secret = strdup(h3);
	in->name = strdup(f->name);
	in->column_label = strdup(f->column_label);
	in->gl_base_url = strdup(f->gl_base_url);
	util_strip_trailing(in->gl_base_url, '/');
	in->gl_project_id = gp->id;
	in->gl_project_path = strdup(gp->path);
	in->gl_project_url = strdup(gp->web_url);
	in->status_map = strdup(map != NULL ? map : f->status_map != NULL &&
	    *f->status_map != '\0' ? f->status_map : "{}");
	in->conflict_policy = strdup(f->conflict_policy ?
	    f->conflict_policy : "latest");
	in->delete_policy = strdup(f->delete_policy ?
	    f->delete_policy : "keep");
	if (in->pb_token == NULL || in->gl_token == NULL ||
	    in->pb_token_tail == NULL || in->gl_token_tail == NULL ||
	    in->plugin_secret == NULL || in->pb_hook_secret == NULL ||
	    in->gl_hook_secret == NULL || in->name == NULL ||
	    in->column_label == NULL || in->gl_base_url == NULL ||
	    in->gl_project_path == NULL || in->gl_project_url == NULL ||
	    in->status_map == NULL || in->conflict_policy == NULL ||
	    in->delete_policy == NULL) {
		log_err("cannot build integration row (key file loaded: %d)",
		    a->key.loaded);
		store_integration_release(in);
		return -1;
	}
	return 0;
}

/* Registers the three upstream objects, undoing on failure. */
static int
register_upstream(struct ctx *c, const struct secrets *sec, char *err,
    size_t len)
{
	const char	*pub = c->app->conf.public_url;
	char		 url[1200], name[300];
	enum http_err	 e;

	snprintf(url, sizeof(url), "%s/plugin/%s", pub, c->in.id);
	e = pb_plugin_create(&c->pb, c->in.name, c->in.column_label, url,
	    sec->plugin, &c->in.pb_plugin_id);
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
	snprintf(url, sizeof(url), "%s/webhooks/gittab/%s", pub, c->in.id);
	e = c->tr.ops->hook_create(&c->tr, url, sec->glhook, &c->in.gl_hook_id);
	if (e != HTTP_OK) {
		snprintf(err, len, c->tr.up.status == 403 ? "The GitLab token "
		    "cannot create project hooks: it needs the Maintainer role."
		    : c->tr.up.status == 422 ? "GitLab refused the hook URL %s "
		    "(is the pbsync public URL reachable from GitLab?)" :
		    "GitLab refused the project hook: %s", c->tr.up.status ==
		    422 ? url : c->tr.up.err);
		goto undo_webhook;
	}
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
	struct gitlab_project gp;
	struct store_integration in;
	struct secrets	 sec;
	struct ctx	 c;
	char		*map = NULL;
	int		 rc = -1;

	memset(&gp, 0, sizeof(gp));
	memset(&c, 0, sizeof(c));
	if (check_form(a, f, err, len) == -1)
		return -1;
	if (!a->key.loaded || app_store(a) == -1) {
		snprintf(err, len, "pbsync is not initialised (key file or "
		    "database missing): run pbsyncctl init.");
		return -1;
	}
	if (check_upstreams(a, f, &gp, &map, err, len) == -1)
		goto out;
	make_secrets(&sec);
	if (make_row(a, f, map, &gp, &sec, &in) == -1) {
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
	if (register_upstream(&c, &sec, err, len) == -1 ||
	    store_integration_update(&a->store, &c.in) != 0) {
		store_integration_delete(&a->store, c.in.id);
		goto out;
	}
	memcpy(id, c.in.id, 33);
	log_info("integration %s created (gitlab project %s)", c.in.id,
	    gp.path);
	rc = 0;
out:
	if (c.ready || c.in.name != NULL)
		ctx_close(&c);
	crypto_wipe(&sec, sizeof(sec));
	gitlab_project_release(&gp);
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
	struct ctx	 c;
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
	if (c.in.gl_hook_id > 0)
		failed |= step(report, "GitLab project hook",
		    c.tr.ops->hook_delete(&c.tr, c.in.gl_hook_id), &c.tr.up);
	if (!failed && store_integration_delete(&a->store, id) != 0)
		failed = 1;
	buf_printf(report, "pbsync records: %s\n", failed ? "kept (retry "
	    "the delete once the failures above are fixed)" : "removed");
	ctx_close(&c);
	return failed ? -1 : 0;
}
