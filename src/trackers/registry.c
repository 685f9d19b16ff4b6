#include "config.h"

#include <string.h>

#include "trackers/github.h"
#include "trackers/gitlab.h"
#include "trackers/jira.h"
#include "trackers/tracker.h"

/* The registry: a new backend is one line here. */
const struct tracker_ops *const tracker_kinds[] = {
	&gitlab_ops,
	&github_ops,
	&jira_ops,
	NULL
};

const struct tracker_ops *
tracker_find(const char *kind)
{
	size_t	 i;

	for (i = 0; kind != NULL && tracker_kinds[i] != NULL; i++)
		if (strcmp(tracker_kinds[i]->kind, kind) == 0)
			return tracker_kinds[i];
	return NULL;
}

int
tracker_open(struct tracker *t, struct app *a, const char *kind,
    const char *url, const char *token, const char *project,
    const char *options)
{
	const struct tracker_ops *ops = tracker_find(kind);

	memset(t, 0, sizeof(*t));
	/* The settings first: a backend may need one to open (Jira's e-mail). */
	t->options = options != NULL && *options != '\0' ?
	    cJSON_Parse(options) : cJSON_CreateObject();
	if (ops == NULL || !cJSON_IsObject(t->options) ||
	    ops->open(t, a, url, token) == -1) {
		tracker_close(t);
		return -1;
	}
	t->ops = ops;
	if (tracker_strdup(&t->project, project) == -1) {
		tracker_close(t);
		return -1;
	}
	return 0;
}
