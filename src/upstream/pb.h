/*
 * pb: the Productboard API v2 client (productboard-api-v2.md).
 *
 * Operation-level functions so the wire format lives in this file only.
 * Each returns the http_err classification; pb->up.err explains failures.
 */
#ifndef PBSYNC_PB_H
#define PBSYNC_PB_H

#include <cjson/cJSON.h>

#include "upstream/upstream.h"

#define PB_RATE_PER_S	45.0	/* under the documented 50 per token */
#define PB_MAX_ID	64	/* entity ids are UUIDs; room to spare */
#define PB_MAX_USER	200	/* triggeredByUser name or email, in bytes */
/* A rich-text field's limit, in characters (productboard-api-v2.md §3.2). */
#define PB_MAX_DESCRIPTION 524288

struct pb {
	struct upstream	 up;
	const char	*base;		/* https://api.productboard.com */
};

struct pb_feature {
	char	*id;
	char	*name;
	char	*description;		/* HTML, "" when empty */
	char	*status_id;
	char	*status_name;
	char	*html_url;
	double	 updated_at;
};

int	 pb_init(struct pb *, struct app *, const char *token);
void	 pb_release(struct pb *);

/* GET /v2/entities/{id}; HTTP_ECLIENT with status 404 when it is gone. */
enum http_err pb_feature_get(struct pb *, const char *id, struct pb_feature *);
void	 pb_feature_release(struct pb_feature *);
/*
 * The features of n ids by POST /v2/entities/search, in its pages: out[k]
 * is ids[k]'s, or has id NULL where the answer does not hold it (deleted:
 * pb_feature_get tells).
 */
enum http_err pb_feature_scan(struct pb *, const char *const *ids, size_t n,
	    struct pb_feature *out);
/* PATCH data.fields with whichever of name, description, status_id is set. */
enum http_err pb_feature_patch(struct pb *, const char *id, const char *name,
	    const char *description, const char *status_id);
/* GET the feature statuses: a new array of {id, name}. */
enum http_err pb_statuses(struct pb *, cJSON **);

/* type names the column's kind: "com.pbsync.<tracker kind>". */
enum http_err pb_plugin_create(struct pb *, const char *type,
	    const char *name, const char *label, const char *url,
	    const char *authorization, char **id);
enum http_err pb_plugin_patch_label(struct pb *, const char *id,
	    const char *label);
enum http_err pb_plugin_delete(struct pb *, const char *id);
/*
 * GET /v2/plugin-integrations/{id}: HTTP_OK with *enabled 0 when its
 * integrationStatus is "disabled" (no column), HTTP_ECLIENT with status
 * 404 when it is gone.
 */
enum http_err pb_plugin_get(struct pb *, const char *id, int *enabled);
/* PUT /v2/plugin-integrations/{id}/connections/{entity}. */
enum http_err pb_connection_put(struct pb *, const char *plugin_id,
	    const char *entity_id, const cJSON *connection);
enum http_err pb_connection_delete(struct pb *, const char *plugin_id,
	    const char *entity_id);

enum http_err pb_webhook_create(struct pb *, const char *name,
	    const char *url, const char *authorization, char **id);
enum http_err pb_webhook_delete(struct pb *, const char *id);
/* GET /v2/webhooks/{id}: HTTP_OK, or HTTP_ECLIENT 404 when it is gone. */
enum http_err pb_webhook_get(struct pb *, const char *id);

/*
 * Inbound payloads, which keep their v1 shape under v2
 * (productboard-api-v2.md §4.4, §5.2).  The decoders read the exact body
 * bytes and fill a struct, without the database or the network, so they
 * can be tested and fuzzed alone.  Each returns 0, or -1 with error set to
 * a constant reason for the 400 answer ("malformed JSON", ...).
 */
enum pb_trigger {
	PB_TRIGGER_PUSH,
	PB_TRIGGER_UNLINK,
	PB_TRIGGER_DISMISS
};

/* An action notification: a click on the plugin column's button. */
struct pb_action {
	enum pb_trigger	 trigger;
	const char	*trigger_name;	/* "button.push", ...: a constant */
	char		 feature_id[PB_MAX_ID + 1];
	/* "Jane Doe <jane@example.com>", or "unknown user": for the log */
	char		 actor[2 * PB_MAX_USER + 8];
	const char	*error;
};

enum pb_event_kind {
	PB_EVENT_OTHER,		/* not subscribed to: acknowledged, ignored */
	PB_EVENT_UPDATED,	/* feature.updated */
	PB_EVENT_DELETED	/* feature.deleted */
};

/* A webhook notification. */
struct pb_event {
	enum pb_event_kind kind;
	char		 type[64 + 1];		/* data.eventType */
	char		 feature_id[PB_MAX_ID + 1]; /* "" for PB_EVENT_OTHER */
	const char	*error;
};

int	 pb_action_decode(struct pb_action *, const char *body, size_t len);
int	 pb_event_decode(struct pb_event *, const char *body, size_t len);

#endif
