/*
 * gitlab: the GitTab backend, GitLab REST API v4 (gittab-api.md), on
 * GitLab.com or a self-managed instance (the admin gives its URL).
 */
#ifndef PBSYNC_GITLAB_H
#define PBSYNC_GITLAB_H

#include "trackers/tracker.h"

#define GITLAB_RATE_PER_S	32.0	/* 1,920/min: under 2,000/min per user */

extern const struct tracker_ops gitlab_ops;

#endif
