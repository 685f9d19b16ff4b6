/*
 * tracker: the interface the flows use to talk to an issue tracker.
 *
 * One backend per file fills a struct tracker_ops, and one line of the
 * registry (tracker.c) makes it known by its kind ("gitlab", "github").
 * Everything of the vendor stays behind it: URLs and headers, state and
 * label rules, the Markdown dialect and what must be neutralised in it,
 * the marker search, the webhook and how its deliveries are checked,
 * decoded and deduplicated.
 *
 * Issues are named by strings the backend makes: its stable id (what the
 * tracker's deliveries name: GitLab's and GitHub's global id), its ref
 * (where the backend finds it: GitLab "project id/iid", GitHub the
 * number) and its key, for people ("grp/proj#12", "owner/repo#12").
 * A state is the tracker's own word for where the issue is: "opened" or
 * "closed" where those are all there is (GitLab, GitHub), a workflow's
 * status name where there is a workflow (Jira: "In Review"), which then
 * also says its group (Jira's status category) and its class, open or
 * closed in pbsync's words.
 */
#ifndef PBSYNC_TRACKER_H
#define PBSYNC_TRACKER_H

#include "app/app.h"
#include "base/buf.h"
#include "base/http.h"
#include "upstream/upstream.h"

#define TRACKER_MAX_ID	64
#define TRACKER_SCAN_MAX 100	/* refs of one scan: a page of the list */

struct tracker_issue {
	char		*id;
	char		*ref;
	char		*key;
	char		*moved_to;	/* id of the issue it moved to, or NULL */
	char		*author;	/* the author's user id, or NULL */
	char		*title;
	char		*description;	/* the tracker's Markdown, "" when none */
	char		*state;		/* the tracker's word */
	char		*state_group;	/* its group (Jira's category), or NULL */
	char		*state_class;	/* "opened"/"closed", NULL: as state */
	char		*web_url;
	char		**labels;
	size_t		 nlabels;
	double		 updated_at;
};

/* What to change; NULL fields are left alone. */
struct tracker_edit {
	const char	*title;
	const char	*description;
	/* One of the tracker's states, or a class: "opened", "closed". */
	const char	*state;
	const char	*add_labels;	/* comma-separated */
	const char	*remove_labels;
};

/* A project or repository, as the admin named it and the token sees it. */
struct tracker_project {
	char		*id;		/* what the backend keeps: "1001" */
	char		*name;		/* for people: "grp/proj" */
	char		*web_url;
	int		 can_write;	/* may create and edit issues */
	int		 can_hook;	/* may manage webhooks */
};

/* An inbound delivery: its CGI parameters and its exact body bytes. */
struct tracker_hook_in {
	const char	*(*param)(const void *, const char *name);
	const void	*arg;
	const char	*body;
	size_t		 len;
};

/* What a delivery says, decoded without the network or the database. */
struct tracker_delivery {
	int		 relevant;	/* 0: acknowledged and ignored */
	int		 deleted;	/* the issue is gone for good */
	char		 id[TRACKER_MAX_ID + 1];
	char		 moved_to[TRACKER_MAX_ID + 1];	/* or "" */
	char		 dedupe[129];	/* the sender's delivery id, or "" */
	const char	*error;		/* why the body was refused */
};

/* How a delivery proves it comes from the hook pbsync registered. */
enum tracker_auth {
	/* auth_header holds the secret itself (checked from the headers) */
	TRACKER_AUTH_TOKEN,
	/* auth_header holds "sha256=" and the hex HMAC-SHA256 of the body */
	TRACKER_AUTH_HMAC_SHA256
};

/*
 * A setting the backend asks the admin for besides URL, token and
 * project (Jira: the account's e-mail, the issue type); stored with the
 * integration as text, never a secret.
 */
struct tracker_option {
	const char	*name;		/* "issue_type" */
	const char	*label;		/* "Issue type", for the form */
	const char	*def;		/* the default, or NULL: required */
	/* 1 if it says whose the token is (Jira: the account's e-mail): it
	 * changes with the token, and an edit may change it. */
	int		 with_token;
};

/* What a person enters in the tracker to set the webhook up by hand. */
struct tracker_hook_setup {
	const char	*where;		/* the tracker's page for it */
	const char	*events;	/* the events to tick, in its words */
	const char	*body;		/* what the hook must send, or NULL */
	char		 filter[128];	/* the project's filter, or "" */
};

#define TRACKER_MAX_OPTION	255	/* characters of a setting's value */

struct tracker;

struct tracker_ops {
	const char	*kind;		/* stored with the integration */
	const char	*title;		/* "GitLab", for people */
	/* The admin form: defaults, labels and what a refusal means. */
	const char	*url_default;
	const char	*url_label;
	const char	*project_label;
	const char	*token_label;
	/* The token cannot write issues, or manage the hook, "in/on" ... */
	const char	*need_write;
	const char	*need_hook;
	/*
	 * The states of a tracker without workflows, NULL-terminated; NULL
	 * when its project's workflow names them (then any status name is
	 * taken in a status map, and a transition to it may fail).
	 */
	const char	*const *states;
	/* Its settings, ended by one whose name is NULL; or NULL: none. */
	const struct tracker_option *options;
	/*
	 * The statuses of the workflow of the project (and issue type) the
	 * tracker works in, where states is NULL: *out gets a JSON array of
	 * {"name", "group", "group_name"} (the status, its category and the
	 * category's name for people).  NULL where states lists them.
	 */
	enum http_err	(*statuses)(struct tracker *, cJSON **out);

	int		(*open)(struct tracker *, struct app *, const char *url,
			    const char *token);
	/* Finds the project the admin named; the tracker then works in it. */
	enum http_err	(*project)(struct tracker *, const char *given,
			    struct tracker_project *);
	enum http_err	(*create)(struct tracker *, const char *title,
			    const char *description, const char *labels,
			    struct tracker_issue *);
	enum http_err	(*get)(struct tracker *, const char *ref,
			    struct tracker_issue *);
	/*
	 * Reads the issues of n refs (at most TRACKER_SCAN_MAX) in pages,
	 * not one call each: out[k] is refs[k]'s issue, or has id NULL where
	 * the answer does not hold it (deleted, or out of the scan's reach:
	 * get tells).  NULL where the tracker has no such list.
	 */
	enum http_err	(*scan)(struct tracker *, const char *const *refs,
			    size_t n, struct tracker_issue *out);
	enum http_err	(*edit)(struct tracker *, const char *ref,
			    const struct tracker_edit *, struct tracker_issue *);
	/*
	 * Finds the issue pbsync made for a feature by the marker in its
	 * description: one the token's own user wrote (anyone can copy a
	 * marker), in the project, or, with moved_to, the issue of that id
	 * (where the tracker says an issue moved, and nowhere else).
	 * HTTP_OK with out->id NULL when there is none.
	 */
	enum http_err	(*find_marker)(struct tracker *, const char *marker,
			    const char *moved_to, struct tracker_issue *);
	/* The webhook: created with secret, deleted by the id it got. */
	enum http_err	(*hook_create)(struct tracker *, const char *url,
			    const char *secret, char **id);
	enum http_err	(*hook_delete)(struct tracker *, const char *id);
	/*
	 * The webhook set up by hand, where the tracker lets only some
	 * accounts register one (Jira: its administrators): what to enter
	 * for project (as the backend keeps it), 0 or -1.  NULL: pbsync
	 * registers the webhook, always.
	 */
	int		(*hook_by_hand)(const char *project,
			    struct tracker_hook_setup *);
	/*
	 * Whether the webhook of that id is still there: HTTP_OK, with
	 * *active 0 when the tracker has stopped sending to it, or
	 * HTTP_ECLIENT with up.status 404 when it is gone.
	 */
	enum http_err	(*hook_exists)(struct tracker *, const char *id,
			    int *active);

	/* Productboard's HTML to the tracker's text and back; 0 or -1. */
	int		(*from_html)(const char *, size_t, struct buf *);
	int		(*to_html)(const char *, size_t, struct buf *);
	/*
	 * pbsync's footer in the tracker's text (marker.h): appended to a
	 * description, 0 or -1; cut off again into out, 1 if there was
	 * one, 0 if not, -1 on error.
	 */
	int		(*footer_append)(struct buf *, const char *feature_id,
			    const char *feature_name, const char *feature_url);
	int		(*footer_strip)(const char *, size_t, struct buf *out);
	/* The characters a description may have, footer included. */
	size_t		 max_description;
	/* The characters of a title it keeps (a longer one is cut). */
	size_t		 max_title;
	/*
	 * How people name an issue of the project (tracker_named): its web
	 * URL is the project's, one of issue_paths (NULL-terminated; NULL:
	 * issues are not named) and its number; its reference the project's
	 * name, ref_sep and the number ("grp/proj#12", "KEY-12").  ref_of
	 * gives the ref of the issue numbered n of the project named name,
	 * on the heap, or NULL.
	 */
	const char	*const *issue_paths;
	char		 ref_sep;
	char		*(*ref_of)(const struct tracker *, const char *name,
			    long long n);
	/*
	 * 1 if edit's issue is not all the answer of its own write (Jira:
	 * a transition, then the fields' PUT or a read): a person's change
	 * made after a write can be in it.
	 */
	int		 reads_back;

	enum tracker_auth auth;
	const char	*auth_header;	/* CGI name: "HTTP_X_GITLAB_TOKEN" */
	/* 1 if the delivery's headers name an issue event, else 0. */
	int		(*relevant)(const struct tracker_hook_in *);
	/* 0 with out filled, or -1 with out->error set. */
	int		(*decode)(const struct tracker_hook_in *,
			    struct tracker_delivery *out);
};

struct tracker {
	const struct tracker_ops *ops;
	struct upstream	 up;
	char		*base;		/* API base, e.g. https://host/api/v4 */
	char		*project;	/* the backend's project id */
	char		*self_id;	/* the token's user, NULL until asked */
	cJSON		*options;	/* the settings, an object of strings */
	/* What the last create or edit changed to fit the tracker, or "". */
	char		 adapted[160];
};

/* The backend of a kind, or NULL; tracker_kinds ends with NULL. */
const struct tracker_ops *tracker_find(const char *kind);
extern const struct tracker_ops *const tracker_kinds[];

/*
 * Opens a tracker of the kind on url with token and options (the JSON
 * object of its settings, or NULL), working in project (NULL until
 * tracker_project has found it): 0, or -1 (unknown kind, memory).
 */
int	 tracker_open(struct tracker *, struct app *, const char *kind,
	    const char *url, const char *token, const char *project,
	    const char *options);
/*
 * The issue's description without pbsync's footer, on the heap (NULL out
 * of memory); *had, if not NULL, says whether there was one.
 */
char	*tracker_footer_cut(const struct tracker *, const char *text,
	    int *had);
/* A setting's value, its default when not set, or "". */
const char *tracker_option(const struct tracker *, const char *name);
/*
 * Checks settings an admin gave (a JSON object) against the backend's
 * declaration: every one known, text of at most TRACKER_MAX_OPTION
 * characters, the required ones set.  0, or -1 with err.
 */
int	 tracker_options_ok(const struct tracker_ops *, const char *json,
	    char *err, size_t errlen);
void	 tracker_close(struct tracker *);
/* ops->project, and on success the tracker works in that project. */
enum http_err tracker_project(struct tracker *, const char *given,
	    struct tracker_project *);
void	 tracker_project_release(struct tracker_project *);

void	 tracker_issue_release(struct tracker_issue *);
/* s cut to the tracker's max_title characters, on the heap, or NULL. */
char	*tracker_title_cut(const struct tracker_ops *, const char *s);
/* What tracker_named made of what a person typed. */
enum tracker_named {
	TRACKER_NAMED_OK,	/* an issue of the project: *ref set */
	TRACKER_NAMED_ELSEWHERE, /* an issue of another project */
	TRACKER_NAMED_BAD,	/* no issue's name */
	TRACKER_NAMED_ENOMEM
};
/*
 * The ref of the issue text names, as a person gives it: its web URL or
 * its reference in the tracker's terms (GitLab "grp/proj#12" or "#12",
 * GitHub "owner/repo#12" or "#12", Jira "KEY-12"), where name and url are
 * the project's name for people and its web URL.  *ref is on the heap.
 */
enum tracker_named tracker_named(const struct tracker *, const char *name,
	    const char *url, const char *text, char **ref);
/* "opened" or "closed": the class of the issue's state. */
const char *tracker_issue_class(const struct tracker_issue *);
/* The states of trackers whose states are pbsync's two words. */
extern const char *const tracker_two_states[];
/* 1 if the issue carries the label. */
int	 tracker_issue_has_label(const struct tracker_issue *, const char *);
/* Copies labels from a JSON array of strings or of {"name": ...}: 0/-1. */
int	 tracker_issue_labels(struct tracker_issue *, const cJSON *array);
/* Sets *dst to a copy of s (NULL stays NULL): 0, or -1 out of memory. */
int	 tracker_strdup(char **dst, const char *s);

/* For the backends (tracker.c), what every REST tracker does alike. */
/* A positive integer field as text in *out: 0, or -1 when absent. */
int	 tracker_json_id(const cJSON *, const char *path, char **out);
/* Calls url and reads the "id" of the answer into *id (heap text). */
enum http_err tracker_call_id(struct tracker *, const char *method,
	    const char *url, const cJSON *body, char **id);
/* The token's user (GET <base>/user), asked once, in t->self_id. */
enum http_err tracker_self(struct tracker *);
/* DELETE of the URL in u (a prefix) with id added as a path segment. */
enum http_err tracker_delete_in(struct tracker *, struct buf *u,
	    const char *id);
/* Keeps key as the delivery's dedupe key if it is short plain text. */
void	 tracker_delivery_key(struct tracker_delivery *, const char *key);
/* 1 if the token's user wrote the issue (tracker_self asked first). */
int	 tracker_own(const struct tracker *, const struct tracker_issue *);
/* How a backend looks for its marker in a page of issues. */
struct tracker_pick {
	const char	*marker;
	/* 1 if the item's text has the marker: a look before it is read. */
	int		(*names)(const cJSON *item, const char *marker);
	int		(*read)(const struct tracker *, const cJSON *item,
			    struct tracker_issue *);
	/* 1 if the issue read may be the one (NULL: any); arg passed on. */
	int		(*fits)(const struct tracker_issue *, const char *arg);
	const char	*arg;
};
/*
 * The first item of page (a JSON array of issues) that names the marker,
 * reads, was written by the token's user (anyone can copy a marker) and
 * fits: 1 with *out set, 0 when there is none, -1 when one does not read.
 */
int	 tracker_pick_marked(const struct tracker *, const cJSON *page,
	    const struct tracker_pick *, struct tracker_issue *out);

#endif
