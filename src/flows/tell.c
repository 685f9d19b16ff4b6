#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "flows/tell.h"

void
tell(struct ctx *c, struct notify_event *ev)
{
	ev->integration_id = c->in.id;
	ev->integration_name = c->in.name;
	if (notify_emit(c->app, ev) == -1)
		log_warn("integration %s: the %s event is not sent", c->in.id,
		    ev->event);
}

void
tell_link(struct ctx *c, const char *event, const char *actor,
    const struct store_link *l, const char *from, const char *to,
    const char *detail)
{
	struct notify_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.event = event;
	ev.actor = actor;
	ev.feature_id = l->feature_id;
	ev.feature_name = l->issue_title;
	ev.feature_url = l->feature_url;
	ev.issue_ref = l->issue_key;
	ev.issue_url = l->issue_url;
	ev.from = from;
	ev.to = to;
	ev.detail = detail;
	tell(c, &ev);
}

void
tell_job(struct ctx *c, const struct store_job *j, struct queue_result *r)
{
	struct store_channel	 ch;
	cJSON			*p = json_parse(j->payload, strlen(j->payload));
	const char		*type = json_str(p, "channel", 16);
	const char		*id = json_str(p, "id", 64);
	const char		*event = json_str(p, "event", 64);
	const cJSON		*at = json_get(p, "at");
	char			 why[512];
	long			 wait;
	enum notify_outcome	 out;
	int			 rc;

	if (type == NULL || id == NULL || event == NULL || !cJSON_IsNumber(at)) {
		queue_fail(r, HTTP_ECLIENT, -1, "a notification job without "
		    "its channel, id, event or time");
		cJSON_Delete(p);
		return;
	}
	/* A channel disconnected since: the message has nowhere to go. */
	if ((rc = store_channel_get(&c->app->store, c->in.id, type, &ch)) != 0 ||
	    !ch.active) {
		if (rc == -1)
			queue_fail(r, HTTP_EINTERNAL, -1, "cannot read the channel");
		if (rc == 0)
			store_channel_release(&ch);
		cJSON_Delete(p);
		return;
	}
	out = notify_deliver(c->app, &ch, id, at->valuedouble, event,
	    json_get(p, "data"), why, sizeof(why), &wait);
	switch (out) {
	case NOTIFY_SENT:
		store_channel_outcome(&c->app->store, c->in.id, type, NULL, 0,
		    util_now());
		break;
	case NOTIFY_PACED:
		r->status = QUEUE_WAIT;
		r->retry_in = wait;
		snprintf(r->error, sizeof(r->error), "%s", why);
		break;
	case NOTIFY_LATER:
		r->status = QUEUE_RETRY;
		r->retry_in = wait;
		snprintf(r->error, sizeof(r->error), "%s", why);
		/* The channel fails when its message is dead: on the last try. */
		if (j->attempts >= NOTIFY_ATTEMPTS)
			store_channel_outcome(&c->app->store, c->in.id, type,
			    why, 0, util_now());
		break;
	case NOTIFY_FAILED:
	case NOTIFY_GONE:
		/* A receiver gone for good gets nothing more until reconnected. */
		r->status = QUEUE_DEAD;
		snprintf(r->error, sizeof(r->error), "%s", why);
		store_channel_outcome(&c->app->store, c->in.id, type, why,
		    out == NOTIFY_GONE, util_now());
		break;
	}
	store_channel_release(&ch);
	cJSON_Delete(p);
}
