/*
 * gitlab: the GitTab backend, GitLab REST API v4 (gittab-api.md).
 */
#ifndef PBSYNC_GITLAB_H
#define PBSYNC_GITLAB_H

#include "tracker.h"

#define GITLAB_RATE_PER_S	30.0	/* 2,000/min per user on GitLab.com */

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

#endif
