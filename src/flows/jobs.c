#include "config.h"

#include <stddef.h>

#include "flows/jobs.h"
#include "flows/push.h"
#include "flows/queue.h"
#include "flows/sync.h"

static const struct queue_kind kinds[] = {
	{ "push",		push_job },
	{ "unmark",		push_unmark_job },
	{ "sync",		sync_job },
	{ "issue_event",	sync_job },
	{ "feature_deleted",	sync_job },
	{ "reconcile",		sync_job },
	{ NULL,			NULL }
};

int
jobs_run_one(struct app *a)
{
	return queue_run_one(a, kinds);
}

void
jobs_run_after(struct app *a)
{
	if (a->conf.job_budget_ms > 0)
		queue_run(a, kinds, a->conf.job_budget_ms);
}
