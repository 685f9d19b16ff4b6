#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/util.h"
#include "flows/ctx.h"
#include "notify/notify.h"

char *
ctx_open_sealed(struct app *a, const char *id, const char *column,
    const char *sealed)
{
	char	 ad[96];
	char	*v;

	snprintf(ad, sizeof(ad), "%s:%s", id, column);
	if ((v = crypto_open(&a->key, sealed, ad)) != NULL ||
	    strncmp(column, "tracker_", 8) != 0)
		return v;
	/* Sealed before schema 4, under the GitLab column's name. */
	snprintf(ad, sizeof(ad), "%s:gl_%s", id, column + 8);
	return crypto_open(&a->key, sealed, ad);
}

int
ctx_open(struct ctx *c, struct app *a, struct store_integration *in)
{
	char	 ad[64];
	char	*pbt = NULL, *trt = NULL;
	int	 rc = -1;

	memset(c, 0, sizeof(*c));
	c->app = a;
	c->in = *in;
	memset(in, 0, sizeof(*in));
	snprintf(ad, sizeof(ad), "%s:pb_token", c->in.id);
	pbt = crypto_open(&a->key, c->in.pb_token, ad);
	trt = ctx_open_sealed(a, c->in.id, "tracker_token", c->in.tracker_token);
	if (pbt == NULL || trt == NULL) {
		log_err("integration %s: cannot decrypt its tokens (wrong key "
		    "file?)", c->in.id);
		goto out;
	}
	if (pb_init(&c->pb, a, pbt) == -1)
		goto out;
	if (tracker_open(&c->tr, a, c->in.tracker_kind, c->in.tracker_url, trt,
	    c->in.tracker_project, c->in.tracker_options) == -1) {
		log_err("integration %s: cannot open its tracker (kind \"%s\")",
		    c->in.id, c->in.tracker_kind);
		pb_release(&c->pb);
		goto out;
	}
	c->ready = 1;
	rc = 0;
out:
	crypto_free_secret(pbt);
	crypto_free_secret(trt);
	if (rc == -1)
		store_integration_release(&c->in);
	return rc;
}

int
ctx_load(struct ctx *c, struct app *a, const char *id)
{
	struct store_integration in;
	int	 rc;

	memset(c, 0, sizeof(*c));
	if (app_store(a) == -1)
		return -1;
	if ((rc = store_integration_get(&a->store, id, &in)) != 0)
		return rc;
	return ctx_open(c, a, &in);
}

void
ctx_close(struct ctx *c)
{
	if (c->ready) {
		pb_release(&c->pb);
		tracker_close(&c->tr);
	}
	store_integration_release(&c->in);
	memset(c, 0, sizeof(*c));
}

int
ctx_auth_check(struct ctx *c)
{
	struct notify_event ev;
	char	 what[96], when[32];

	if (c->pb.up.status != 401 && c->tr.up.status != 401)
		return 0;
	util_format_time(util_now(), when);
	snprintf(what, sizeof(what), "%s refused the token on %s",
	    c->pb.up.status == 401 ? "Productboard" : c->tr.ops->title, when);
	log_warn("integration %s: %s", c->in.id, what);
	store_integration_set_auth_failed(&c->app->store, c->in.id, what);
	if (c->in.auth_failed == NULL) {
		memset(&ev, 0, sizeof(ev));
		ev.event = "integration.unhealthy";
		ev.integration_id = c->in.id;
		ev.integration_name = c->in.name;
		ev.actor = "pbsync";
		ev.detail = what;
		notify_emit(c->app, &ev);
	}
	return 1;
}

void
ctx_log(struct ctx *c, const char *actor, const char *action,
    const char *feature_id, const char *issue_key, const char *result,
    const char *detail)
{
	struct store_log l;

	memset(&l, 0, sizeof(l));
	memcpy(l.integration_id, c->in.id, sizeof(l.integration_id));
	l.actor = actor;
	l.action = action;
	l.feature_id = feature_id;
	l.issue_ref = issue_key != NULL ? issue_key : "";
	l.result = result;
	l.detail = detail;
	store_log(&c->app->store, &l);
}
