/*
 * jira: Jira Cloud REST API v3 (more-trackers.md §B), the issues of one
 * project and issue type on a site (the admin gives the site URL,
 * https://x.atlassian.net, the account's e-mail and an API token).
 *
 * Issues are named by their id (ref, stable when an issue moves) and key
 * ("PROJ-12", for people); states are the workflow's status names, their
 * group the status category ("new", "indeterminate", "done") and their
 * class closed for "done".  A status changes through the transition the
 * issue's workflow allows towards it; descriptions are ADF (adf.h).
 */
#ifndef PBSYNC_JIRA_H
#define PBSYNC_JIRA_H

#include "trackers/tracker.h"

/*
 * Per process and token: Jira Cloud's burst limits are per second, per
 * endpoint and method; an API token has no hourly quota.  A 429 names
 * its limit in RateLimit-Reason.
 */
#define JIRA_RATE_PER_S		10.0
#define JIRA_MAX_SUMMARY	255

extern const struct tracker_ops jira_ops;

/* 1 if a Jira answer other than 429 says to wait (503, Retry-After). */
int	 jira_rate_limited(const struct http_resp *);
/* 0 when a 429 binds only the issue written (jira-per-issue-on-write). */
int	 jira_limit_is_shared(const struct http_resp *);

#endif
