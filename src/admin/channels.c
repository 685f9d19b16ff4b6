/*
 * admin_channels: the notification channels of one integration, from its
 * page: connect (or update and turn back on), send a test, disconnect.
 * The work is notify_'s, as for the API and pbsyncctl.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin/channels.h"
#include "admin/view.h"
#include "base/crypto.h"
#include "notify/notify.h"

/* The outcome of an action, with the way back to the integration. */
static void
outcome(struct view *ad, int status, const char *title, const char *msg)
{
	struct tmpl_vars *v = view_vars(ad, title);
	char		 back[64];

	snprintf(back, sizeof(back), "/admin/i/%s#channels", ad->id);
	tmpl_set(v, "message", msg);
	tmpl_set(v, "back_url", back);
	view_page(ad, status, "message.html", v);
}

void
channels_connect(struct view *ad)
{
	static const struct form_field f[] = {
		{ "csrf", FORM_LINE, 64, 0, 0 },
		{ "type", FORM_LINE, 16, 0, 0 },
		{ "url", FORM_SECRET, 2048, 0, 0 },
		{ "feature.pushed", FORM_LINE, 8, 0, 0 },
		{ "feature.unlinked", FORM_LINE, 8, 0, 0 },
		{ "feature.status_changed", FORM_LINE, 8, 0, 0 },
		{ "issue.state_changed", FORM_LINE, 8, 0, 0 },
		{ "sync.conflict", FORM_LINE, 8, 0, 0 },
		{ "sync.failed", FORM_LINE, 8, 0, 0 },
		{ "integration.unhealthy", FORM_LINE, 8, 0, 0 },
	};
	char		 events[512], msg[512], secret[NOTIFY_SECRET_MAX];
	char		 shown[sizeof(msg) + NOTIFY_SECRET_MAX + 64];
	const char	*type, *url;
	size_t		 i, o = 0;
	enum notify_rc	 rc;

	if (view_post(ad, f, sizeof(f) / sizeof(f[0])) == -1)
		return;
	type = form_str(&ad->form, "type");
	url = form_str(&ad->form, "url");
	/* The boxes ticked; none is refused by notify_connect in words. */
	events[0] = '\0';
	for (i = 0; notify_events[i] != NULL; i++)
		if (form_str(&ad->form, notify_events[i]) != NULL)
			o += (size_t)snprintf(events + o, sizeof(events) - o,
			    "%s%s", o > 0 ? "," : "", notify_events[i]);
	rc = notify_connect(ad->app, ad->id, type != NULL ? type : "",
	    url != NULL ? url : "", events, secret, msg, sizeof(msg));
	if (rc == NOTIFY_OK) {
		view_audit(ad, ad->id, msg);
		if (secret[0] != '\0') {
			/* Shown here once: only its sealed form is kept. */
			snprintf(shown, sizeof(shown), "%s Its signing secret, "
			    "shown only now: %s", msg, secret);
			crypto_wipe(secret, sizeof(secret));
			outcome(ad, 200, "Channel connected", shown);
			crypto_wipe(shown, sizeof(shown));
			return;
		}
	}
	outcome(ad, notify_http_status(rc), rc == NOTIFY_OK ? "Channel connected" :
	    "Channel not connected", msg);
}

void
channels_test(struct view *ad, const char *type)
{
	static const struct form_field f[] = { { "csrf", FORM_LINE, 64, 0, 0 } };
	char		 msg[512];
	enum notify_rc	 rc;

	if (view_post(ad, f, 1) == -1)
		return;
	if ((rc = notify_check(ad->app, ad->id, type, msg, sizeof(msg))) !=
	    NOTIFY_OK) {
		outcome(ad, notify_http_status(rc), "Test not sent", msg);
		return;
	}
	if (notify_test(ad->app, ad->id, type, msg, sizeof(msg)) ==
	    NOTIFY_SENT)
		outcome(ad, 200, "Test sent", msg);
	else
		outcome(ad, 200, "Test not delivered", msg);
}

void
channels_disconnect(struct view *ad, const char *type)
{
	static const struct form_field f[] = { { "csrf", FORM_LINE, 64, 0, 0 } };
	char		 msg[512];
	enum notify_rc	 rc;

	if (view_post(ad, f, 1) == -1)
		return;
	rc = notify_disconnect(ad->app, ad->id, type, msg, sizeof(msg));
	if (rc == NOTIFY_OK)
		view_audit(ad, ad->id, msg);
	outcome(ad, notify_http_status(rc), rc == NOTIFY_OK ? "Channel disconnected" :
	    "Channel not disconnected", msg);
}
