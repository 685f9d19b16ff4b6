/*
 * github: GitHub REST API (more-trackers.md §A), the issues of one
 * repository on GitHub.com or GitHub Enterprise Server (the admin gives
 * the API base: https://api.github.com or https://host/api/v3).
 */
#ifndef PBSYNC_GITHUB_H
#define PBSYNC_GITHUB_H

#include "trackers/tracker.h"

#define GITHUB_API_VERSION	"2022-11-28"
/*
 * Per process and token: well under the secondary limits (900 points a
 * minute per endpoint); the hourly budget (5,000) is kept by its 403s,
 * whose x-ratelimit-reset pauses every process.
 */
#define GITHUB_RATE_PER_S	10.0

extern const struct tracker_ops github_ops;

/* 1 if a GitHub answer other than 429 says a rate limit was hit. */
int	 github_rate_limited(const struct http_resp *);

#endif
