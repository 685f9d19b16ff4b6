#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/util.h"
#include "flows/ctx.h"
#include "trackers/gitlab.h"

int
ctx_open(struct ctx *c, struct app *a, struct store_integration *in)
{
	char	 ad[64];
	char	*pbt = NULL, *glt = NULL;
	int	 rc = -1;

	memset(c, 0, sizeof(*c));
	c->app = a;
	c->in = *in;
	memset(in, 0, sizeof(*in));
	snprintf(ad, sizeof(ad), "%s:pb_token", c->in.id);
	pbt = crypto_open(&a->key, c->in.pb_token, ad);
	snprintf(ad, sizeof(ad), "%s:gl_token", c->in.id);
	glt = crypto_open(&a->key, c->in.gl_token, ad);
	if (pbt == NULL || glt == NULL) {
		log_err("integration %s: cannot decrypt its tokens (wrong key "
		    "file?)", c->in.id);
		goto out;
	}
	if (pb_init(&c->pb, a, pbt) == -1)
		goto out;
	if (gitlab_open(&c->tr, a, c->in.gl_base_url, glt,
	    c->in.gl_project_id) == -1) {
		pb_release(&c->pb);
		goto out;
	}
	c->ready = 1;
	rc = 0;
out:
	crypto_free_secret(pbt);
	crypto_free_secret(glt);
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
		gitlab_close(&c->tr);
	}
	store_integration_release(&c->in);
	memset(c, 0, sizeof(*c));
}

int
ctx_auth_check(struct ctx *c)
{
	char	 what[96], when[32];

	if (c->pb.up.status != 401 && c->tr.up.status != 401)
		return 0;
	util_format_time(util_now(), when);
	snprintf(what, sizeof(what), "%s refused the token on %s",
	    c->pb.up.status == 401 ? "Productboard" : "GitLab", when);
	log_warn("integration %s: %s", c->in.id, what);
	store_integration_set_auth_failed(&c->app->store, c->in.id, what);
	return 1;
}

void
ctx_log(struct ctx *c, const char *actor, const char *action,
    const char *feature_id, long long issue_iid, const char *result,
    const char *detail)
{
	struct store_log l;
	char		 ref[32] = "";

	if (issue_iid > 0)
		snprintf(ref, sizeof(ref), "#%lld", issue_iid);
	memset(&l, 0, sizeof(l));
	memcpy(l.integration_id, c->in.id, sizeof(l.integration_id));
	l.actor = actor;
	l.action = action;
	l.feature_id = feature_id;
	l.issue_ref = ref;
	l.result = result;
	l.detail = detail;
	store_log(&c->app->store, &l);
}
