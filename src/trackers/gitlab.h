/*
 * gitlab: the GitTab backend, GitLab REST API v4 (gittab-api.md).
 */
#ifndef PBSYNC_GITLAB_H
#define PBSYNC_GITLAB_H

#include "trackers/tracker.h"

#define GITLAB_RATE_PER_S	32.0	/* 1,920/min: under 2,000/min per user */

struct gitlab_project {
	long long	 id;
	char		*path;		/* path_with_namespace */
	char		*web_url;
	int		 access_level;	/* 40 = Maintainer */
};

/* base_url is the instance ("https://gitlab.com"); /api/v4 is added. */
int	 gitlab_open(struct tracker *, struct app *, const char *base_url,
	    const char *token, long long project_id);
void	 gitlab_close(struct tracker *);
/* GET /projects/:id with a numeric id or a group/project path. */
enum http_err gitlab_project(struct tracker *, const char *id_or_path,
	    struct gitlab_project *);
void	 gitlab_project_release(struct gitlab_project *);

/*
 * An Issue Hook or Confidential Issue Hook delivery (gittab-api.md §5.2):
 * the issue's coordinates, taken from the exact body bytes without the
 * database or the network.  0, with is_issue 0 for another object_kind
 * (acknowledged, ignored), or -1 with error set to a constant reason for
 * the 400 answer.
 */
struct gitlab_hook {
	int		 is_issue;
	long long	 id, iid, project_id;	/* >= 1 */
	long long	 moved_to_id;		/* 0: not moved */
	const char	*error;
};

int	 gitlab_hook_decode(struct gitlab_hook *, const char *body,
	    size_t len);

#endif
