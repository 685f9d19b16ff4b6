/*
 * tracker: the interface the flows use to talk to an issue tracker.
 *
 * GitLab (gitlab.c) is the one backend today; GitHub and Jira plug in by
 * providing another tracker_ops.  Issues are named by the tracker's global
 * id plus whatever the backend needs to address them (project and iid for
 * GitLab), carried in struct tracker_issue.
 */
#ifndef PBSYNC_TRACKER_H
#define PBSYNC_TRACKER_H

#include "base/http.h"
#include "upstream/upstream.h"

struct tracker_issue {
	long long	 id;		/* global id */
	long long	 project_id;
	long long	 iid;		/* number shown to people: #iid */
	long long	 moved_to_id;
	long long	 author_id;	/* 0 when unknown */
	char		*title;
	char		*description;	/* Markdown, "" when none */
	char		*state;		/* "opened" or "closed" */
	char		*web_url;
	char		**labels;
	size_t		 nlabels;
	double		 updated_at;
};

/* What to change; NULL / 0 fields are left alone. */
struct tracker_edit {
	const char	*title;
	const char	*description;
	const char	*state_event;	/* "close" or "reopen" */
	const char	*add_labels;	/* comma-separated */
	const char	*remove_labels;
};

struct tracker;

struct tracker_ops {
	const char	*name;
	enum http_err	(*create)(struct tracker *, const char *title,
			    const char *description, const char *labels,
			    struct tracker_issue *);
	enum http_err	(*get)(struct tracker *, long long project_id,
			    long long iid, struct tracker_issue *);
	enum http_err	(*edit)(struct tracker *, long long project_id,
			    long long iid, const struct tracker_edit *,
			    struct tracker_issue *);
	/*
	 * Finds the issue pbsync made for a feature by the marker in its
	 * description: one the token's own user wrote (anyone can copy a
	 * marker), in the project, or, with moved_to, the issue of that
	 * global id in any project the token sees (where GitLab says an
	 * issue moved, and nowhere else).  HTTP_OK with out->id == 0 when
	 * there is none.
	 */
	enum http_err	(*find_marker)(struct tracker *, const char *marker,
			    long long moved_to, struct tracker_issue *);
	enum http_err	(*hook_create)(struct tracker *, const char *url,
			    const char *token, long long *id);
	enum http_err	(*hook_delete)(struct tracker *, long long id);
	/* The characters a description may have, footer included. */
	size_t		 max_description;
};

struct tracker {
	const struct tracker_ops *ops;
	struct upstream	 up;
	char		*base;		/* API base, e.g. https://host/api/v4 */
	long long	 project_id;
	long long	 self_id;	/* the token's user, 0 until asked */
};

void	 tracker_issue_release(struct tracker_issue *);
/* 1 if the issue carries the label. */
int	 tracker_issue_has_label(const struct tracker_issue *, const char *);

#endif
