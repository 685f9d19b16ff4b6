/*
 * admin_hooks: the tracker webhook's page.  The secret of a webhook set
 * up by hand is shown in two answers only, to the admin who asked: the
 * create's and a new secret's; the page otherwise says where it went.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin/hooks.h"
#include "base/crypto.h"
#include "base/log.h"
#include "flows/integ.h"
#include "trackers/tracker.h"

static void
hook_page(struct view *ad, const struct store_integration *in,
    const char *secret, const char *notice)
{
	const struct tracker_ops *ops = tracker_find(in->tracker_kind);
	const char	*who = ops != NULL ? ops->title : in->tracker_kind;
	struct tracker_hook_setup hs;
	struct tmpl_vars *v;
	char		 title[64], url[1200], page[64];
	int		 hand;

	snprintf(title, sizeof(title), "%s webhook", who);
	v = view_vars(ad, title);
	hand = integ_hook_by_hand(in) && integ_hook_setup(ad->app, in, url,
	    sizeof(url), &hs) == 0;
	snprintf(page, sizeof(page), "/admin/i/%s", in->id);
	tmpl_set_url(v, "page_url", page);
	tmpl_set(v, "notice", notice != NULL ? notice : "");
	tmpl_set(v, "name", in->name);
	tmpl_set(v, "tracker_title", who);
	tmpl_set(v, "project", in->tracker_project_name);
	tmpl_set_flag(v, "by_hand", hand);
	tmpl_set_flag(v, "registered", !hand && in->tracker_hook_id != NULL);
	tmpl_set(v, "hook_id", !hand && in->tracker_hook_id != NULL ?
	    in->tracker_hook_id : "");
	tmpl_set(v, "hook_url", hand ? url : "");
	tmpl_set(v, "hook_where", hand ? hs.where : "");
	tmpl_set(v, "hook_events", hand ? hs.events : "");
	tmpl_set(v, "hook_body", hand && hs.body != NULL ? hs.body : "");
	tmpl_set(v, "hook_filter", hand ? hs.filter : "");
	tmpl_set_flag(v, "has_secret", secret != NULL);
	tmpl_set(v, "secret", secret != NULL ? secret : "");
	view_page(ad, 200, "hook.html", v);
}

/* The integration of the page, or the answer given: 0 or -1. */
static int
load(struct view *ad, const char *id, struct store_integration *in)
{
	int	 rc;

	if ((rc = store_integration_get(&ad->app->store, id, in)) == 0)
		return 0;
	view_message(ad, rc == STORE_NOTFOUND ? 404 : 500, "Not found",
	    rc == STORE_NOTFOUND ? "There is no such integration." :
	    "The integration cannot be read (see the log).");
	return -1;
}

void
hooks_created(struct view *ad, const char *id, const char *secret)
{
	const struct tracker_ops *ops;
	struct store_integration in;
	const char	*who;
	char		 notice[320];

	if (load(ad, id, &in) == -1)
		return;
	ops = tracker_find(in.tracker_kind);
	who = ops != NULL ? ops->title : in.tracker_kind;
	snprintf(notice, sizeof(notice), "The integration was created. Its "
	    "%s webhook is to be set up by hand, as below: until it is, "
	    "changes made in %s reach Productboard only through the periodic "
	    "reconcile.", who, who);
	hook_page(ad, &in, secret, notice);
	store_integration_release(&in);
}

void
hooks_page(struct view *ad)
{
	static const struct form_field f[] = { { "csrf", FORM_LINE, 64, 0, 0 } };
	struct store_integration in;
	char		 secret[CRYPTO_SECRET_LEN + 1], err[256];

	if (ad->rq->method != REQ_POST) {
		if (load(ad, ad->id, &in) == 0) {
			hook_page(ad, &in, NULL, NULL);
			store_integration_release(&in);
		}
		return;
	}
	if (view_post(ad, f, 1) == -1)
		return;
	if (integ_hook_secret_new(ad->app, ad->id, secret, err,
	    sizeof(err)) == -1) {
		log_info("admin \"%s\": no new webhook secret for %s: %s",
		    ad->sess.user, ad->id, err);
		view_message(ad, 422, "No new secret", err);
		return;
	}
	view_audit(ad, ad->id, "a new secret for the webhook set up by hand");
	if (load(ad, ad->id, &in) == 0) {
		hook_page(ad, &in, secret, "A new secret was made: enter it in "
		    "the webhook's settings in place of the old one, which "
		    "pbsync no longer takes.");
		store_integration_release(&in);
	}
	crypto_wipe(secret, sizeof(secret));
}
