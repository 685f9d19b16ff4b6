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
 * Changes an integration (integ_edit.c): name, column label, tokens,
 * status map and policies.  NULL fields of f keep their value, and so do
 * empty tokens; the tracker, its URL and project name the hook, so they
 * stay.  A new token is validated with read calls (and the tracker's must
 * still manage the hook) before anything changes; a new label is sent to
 * Productboard (PATCH of the plugin integration) before the row is
 * written.  0, or -1 with a message an admin can act on in err and
 * nothing changed.
 */
int	 integ_update(struct app *, const char *id, const struct integ_form *,
	    char *err, size_t errlen);
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
