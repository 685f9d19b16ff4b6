#include "config.h"

#include <stddef.h>

#include "flows/jobs.h"
#include "flows/push.h"
#include "flows/queue.h"
#include "flows/sync.h"
#include "flows/tell.h"
#include "store/store.h"

static const struct queue_kind kinds[] = {
	{ "push",		push_job,		0, 1 },
	{ "unmark",		push_unmark_job,	0, 1 },
	{ "sync",		sync_job,		0, 1 },
	{ "issue_event",	sync_job,		0, 1 },
	{ "feature_deleted",	sync_job,		0, 1 },
	{ "reconcile",		sync_job,		0, 1 },
	{ "notify",		tell_job,		NOTIFY_ATTEMPTS, 0 },
	{ NULL,			NULL,			0, 0 }
};

static const struct queue_lane lanes[] = {
	[JOBS_ALL] =	{ NULL, 0 },
	[JOBS_SYNC] =	{ "notify", 0 },
	[JOBS_NOTIFY] =	{ "notify", 1 },
};

int
jobs_run_one(struct app *a)
{
	return queue_run_one(a, kinds, &lanes[JOBS_ALL]);
}

int
jobs_run_lane(struct app *a, enum jobs_lane lane)
{
	return queue_run_one(a, kinds, &lanes[lane]);
}

int
jobs_wait_lane(struct app *a, enum jobs_lane lane, long timeout_ms)
{
	return store_wake_wait(&a->store, lanes[lane].kind, lanes[lane].only,
	    timeout_ms);
}

void
jobs_run_after(struct app *a)
{
	/* Never a notification: a receiver's 10 s would hold up a child. */
	if (a->conf.job_budget_ms > 0)
		queue_run(a, kinds, &lanes[JOBS_SYNC], a->conf.job_budget_ms);
}
