/*
 * notify: telling people what the sync did (DESIGN §9).
 *
 * An integration has at most one channel of each type: a Slack incoming
 * webhook, a Discord webhook, or any https receiver of signed JSON (the
 * Standard Webhooks form).  Each channel filters the events it wants.  An
 * event becomes one durable job per channel (notify_emit): a receiver that
 * is down never delays or fails a sync.  Messages are written in each
 * receiver's own format from the event's data, as text only: nothing in a
 * feature name can mention, ping or format beyond what pbsync wrote.
 */
#ifndef PBSYNC_NOTIFY_H
#define PBSYNC_NOTIFY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "app/app.h"
#include "base/http.h"
#include "store/store.h"

#define NOTIFY_ATTEMPTS		3	/* then the delivery is dead */
#define NOTIFY_TIMEOUT_MS	10000
#define NOTIFY_SECRET_MAX	96	/* "whsec_" and base64 of 32 bytes */
#define NOTIFY_TEST_EVENT	"pbsync.test"

/* The channel types and the events, NULL-terminated. */
extern const char *const notify_types[];
extern const char *const notify_events[];

int	 notify_type_known(const char *);
int	 notify_event_known(const char *);
/* 1 if a channel's filter ("*" or a comma list) has the event. */
int	 notify_filter_has(const char *events, const char *event);

/*
 * What happened, for the messages and the webhook's "data".  Every field
 * but event may be NULL.
 */
struct notify_event {
	const char	*event;		/* "feature.pushed", ... */
	const char	*integration_id;
	const char	*integration_name;
	const char	*feature_id;
	const char	*feature_name;
	const char	*feature_url;
	const char	*issue_ref;	/* "#12", "owner/repo#12" */
	const char	*issue_url;
	const char	*actor;		/* who did it */
	const char	*from;		/* a status or state change */
	const char	*to;
	const char	*detail;	/* what changed, or the error */
};

/*
 * Queues a delivery for each active channel of the integration whose
 * filter has the event: 0, or -1 (logged; the caller's work goes on).
 */
int	 notify_emit(struct app *, const struct notify_event *);

/* The outcome of a change to a channel, for people: msg says it. */
enum notify_rc {
	NOTIFY_OK,
	NOTIFY_EINVAL,		/* bad type, URL or events: nothing changed */
	NOTIFY_ENOTYPE,		/* a type pbsync does not know */
	NOTIFY_ENOTFOUND,	/* no such integration or channel */
	NOTIFY_EFAIL		/* the store or the key failed */
};

/*
 * Connects a channel: creates it, or replaces its URL and filter and turns
 * it back on.  events is "*" or a comma list (NULL: all).  A new webhook
 * channel gets a secret, copied to secret (shown once); otherwise secret
 * is "".
 */
enum notify_rc notify_connect(struct app *, const char *iid,
	    const char *type, const char *url, const char *events,
	    char secret[NOTIFY_SECRET_MAX], char *msg, size_t msglen);
/*
 * NOTIFY_OK if the integration exists and, when type is not NULL, has a
 * channel of that type; else NOTIFY_ENOTFOUND (or NOTIFY_EFAIL) and why.
 */
enum notify_rc notify_check(struct app *, const char *iid, const char *type,
	    char *msg, size_t msglen);
/* The HTTP status that says rc: 200, 404, 422 or 503. */
int	 notify_http_status(enum notify_rc);
/* Deletes a channel for good. */
enum notify_rc notify_disconnect(struct app *, const char *iid,
	    const char *type, char *msg, size_t msglen);
/*
 * Gives a webhook channel a new secret (into secret); the old one stays
 * valid for grace_s seconds, and deliveries carry both signatures.
 */
enum notify_rc notify_rotate(struct app *, const char *iid,
	    const char *type, long grace_s, char secret[NOTIFY_SECRET_MAX],
	    char *msg, size_t msglen);

/* How a delivery ended, for the job that made it. */
enum notify_outcome {
	NOTIFY_SENT,
	NOTIFY_PACED,		/* the receiver's pace: again in *wait_s */
	NOTIFY_LATER,		/* worth another attempt (5xx, timeout, 429) */
	NOTIFY_FAILED,		/* no point retrying (our message, a policy) */
	NOTIFY_GONE		/* the receiver refused for good: turn it off */
};

/*
 * Delivers one message now: msg_id names it on every attempt, at is when
 * the event happened.  why says the outcome in words a person can act on;
 * *wait_s is the delay a receiver asked for (-1: none).
 */
enum notify_outcome notify_deliver(struct app *,
	    const struct store_channel *, const char *msg_id, double at,
	    const char *event, const cJSON *data, char *why, size_t whylen,
	    long *wait_s);
/*
 * Sends a sample that names the integration through one channel, now:
 * NOTIFY_SENT or why not.
 */
enum notify_outcome notify_test(struct app *, const char *iid,
	    const char *type, char *why, size_t whylen);

/* The data object of an event (the webhook's "data"), or NULL. */
cJSON	*notify_data(const struct notify_event *);
/*
 * The request body for a channel type: Slack blocks, a Discord embed, or
 * the webhook envelope.  NULL on an unknown type or no memory.
 */
char	*notify_body(const char *type, const char *event, double at,
	    const cJSON *data);

#endif
