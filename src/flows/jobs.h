/*
 * jobs: the table of the flows' jobs, by kind, that the queue runs.
 *
 * The one place that names every job kind: adding a flow with a job of its
 * own adds its row here, and the queue stays ignorant of the flows.
 */
#ifndef PBSYNC_JOBS_H
#define PBSYNC_JOBS_H

#include "app/app.h"

/* What a runner takes: every job, the sync's, or the notifications. */
enum jobs_lane {
	JOBS_ALL,
	JOBS_SYNC,
	JOBS_NOTIFY
};

/* Runs one due job: 1 if one ran, 0 if none was due, -1 on error. */
int	 jobs_run_one(struct app *);
/* The same for the jobs of one lane. */
int	 jobs_run_lane(struct app *, enum jobs_lane);
/*
 * Waits up to timeout_ms for a job of the lane to be queued (the store's
 * wake-up): 1 if one may have been, 0 if the time ran out.
 */
int	 jobs_wait_lane(struct app *, enum jobs_lane, long timeout_ms);
/* serve_prog.after: runs due sync jobs for conf.job_budget_ms. */
void	 jobs_run_after(struct app *);

#endif
