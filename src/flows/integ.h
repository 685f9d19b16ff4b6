/*
 * integ: creating and deleting an integration (DESIGN §4), shared by the
 * admin pages and pbsyncctl.
 *
 * Create validates both tokens with read calls, then registers the plugin
 * integration (whose probe our own plugin program answers, so the row is
 * stored first), the Productboard webhook and the tracker's webhook, each
 * with a fresh secret.  A failed step undoes the steps before it.
 */
#ifndef PBSYNC_INTEG_H
#define PBSYNC_INTEG_H

#include "app/app.h"
#include "base/buf.h"
#include "trackers/tracker.h"

/*
 * The tracker_hook_id of a webhook a person set up by hand in the
 * tracker (tracker_ops.hook_by_hand): pbsync has no id of it, neither
 * checks nor deletes it.  No tracker's id has a '-'.
 */
#define INTEG_HOOK_BY_HAND	"by-hand"

struct integ_form {
	const char	*name;
	const char	*pb_token;
	const char	*column_label;
	const char	*tracker_kind;	/* "gitlab" (the default), "github" */
	const char	*tracker_url;	/* "" or NULL: the backend's default */
	const char	*tracker_token;
	const char	*tracker_project; /* as the backend takes it */
	const char	*tracker_options; /* JSON: the backend's settings */
	const char	*conflict_policy;
	const char	*delete_policy;
	const char	*status_map;	/* JSON */
	/*
	 * 1: a person sets the tracker's webhook up by hand, where its
	 * backend allows (tracker_ops.hook_by_hand); create registers none
	 * and copies its secret into hook_secret (CRYPTO_SECRET_LEN + 1
	 * bytes) for the admin to enter in the tracker.
	 */
	int		 hook_by_hand;
	char		*hook_secret;
};

/* 0 with id filled, or -1 with a message an admin can act on in err. */
int	 integ_create(struct app *, const struct integ_form *, char id[33],
	    char *err, size_t errlen);
/*
 * Removes the upstream registrations and the row; a side already gone
 * (404) counts as removed.  Appends one line per step to report.  0 when
 * everything is gone, -1 when a side could not be removed (the row is
 * kept so the admin can retry).
 */
int	 integ_delete(struct app *, const char *id, struct buf *report);
/*
 * Changes an integration (integ_edit.c): name, column label, tokens (and
 * the tracker's settings that go with its token: tracker_option
 * .with_token), status map and policies.  NULL fields of f keep their
 * value, and so do empty tokens; the tracker, its URL and project name
 * the hook, so they stay.  A new token is validated with read calls (and
 * the tracker's must still manage the hook, unless it was set up by
 * hand) before anything changes; a new label is sent to
 * Productboard (PATCH of the plugin integration) before the row is
 * written.  0, or -1 with a message an admin can act on in err and
 * nothing changed.
 */
int	 integ_update(struct app *, const char *id, const struct integ_form *,
	    char *err, size_t errlen);
/*
 * The statuses of the workflow of the tracker, project and settings f
 * names, for the form that maps them: 0 with *out a JSON array
 * (tracker_ops.statuses), or NULL for a tracker whose states are fixed;
 * -1 with a message an admin can act on in err.
 */
int	 integ_statuses(struct app *, const struct integ_form *, cJSON **out,
	    char *err, size_t errlen);
/* 1 if the integration's webhook is one set up by hand. */
int	 integ_hook_by_hand(const struct store_integration *);
/*
 * What a person enters in the tracker to set the integration's webhook
 * up by hand: its URL into url, the rest from the backend.  0, or -1
 * for a tracker with no such way.
 */
int	 integ_hook_setup(const struct app *, const struct store_integration *,
	    char *url, size_t urllen, struct tracker_hook_setup *);
/*
 * A new secret for the webhook set up by hand of integration id, kept as
 * create keeps it and copied into secret, to be entered in the tracker;
 * deliveries signed with the old one are refused from now on.  0, or -1
 * with a message in err.
 */
int	 integ_hook_secret_new(struct app *, const char *id,
	    char secret[CRYPTO_SECRET_LEN + 1], char *err, size_t errlen);
/*
 * Checks the states a status map (sync.h) names, both ways, against the
 * statuses of the workflow t works in (tracker_ops.statuses: a status
 * name, or back to Productboard also a status category; "opened" and
 * "closed" always); a tracker with fixed states has nothing to check.
 * 0, or -1 with err naming the first unknown one.
 */
int	 integ_status_map_known(struct tracker *, const char *json, char *err,
	    size_t errlen);
/*
 * Checks a status map (sync.h) an admin submitted against the tracker's
 * fixed states (tracker_ops.states; NULL: any status name of a
 * workflow): 0, or -1 with err.
 */
int	 integ_status_map_ok(const char *json, const char *const *states,
	    char *err, size_t errlen);
/*
 * Checks the policies and the status map of f, where set (NULL keeps or
 * defaults them), before create or update makes a call: 0, or -1 with a
 * message in err.
 */
int	 integ_choices_ok(const struct integ_form *, const char *const *states,
	    char *err, size_t errlen);

#endif
