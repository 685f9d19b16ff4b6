/*
 * conn: Productboard connection states for the plugin column
 * (productboard-api-v2.md §4.2), with the field limits enforced here.
 */
#ifndef PBSYNC_CONN_H
#define PBSYNC_CONN_H

#include <cjson/cJSON.h>

#include "trackers/tracker.h"

/* "connected": label = state, hover = key, tooltip = title, colour. */
cJSON	*conn_from_issue(const struct tracker_issue *);
/*
 * The same from what a link row remembers of its issue.  The label is
 * "Open" or "Closed", or a workflow's own status name ("In Review");
 * cls, "opened" or "closed", colours it (NULL: state says it).
 */
cJSON	*conn_connected(const char *key, const char *title, const char *state,
	    const char *cls, const char *url);
cJSON	*conn_error(const char *message);
cJSON	*conn_simple(const char *state);	/* "progress", "initial" */
/*
 * The reply to an action notification: {"data":{"fields":{"connection"}}},
 * plus the v1 key data.connection when both is set.  Takes ownership of c.
 */
cJSON	*conn_reply(cJSON *c, int both);
/* Copies at most max UTF-8 characters of s into a heap string. */
char	*conn_cut(const char *s, size_t max);

#endif
