/*
 * jobs: the table of the flows' jobs, by kind, that the queue runs.
 *
 * The one place that names every job kind: adding a flow with a job of its
 * own adds its row here, and the queue stays ignorant of the flows.
 */
#ifndef PBSYNC_JOBS_H
#define PBSYNC_JOBS_H

#include "app/app.h"

/* Runs one due job: 1 if one ran, 0 if none was due, -1 on error. */
int	 jobs_run_one(struct app *);
/* serve_prog.after: runs due jobs for conf.job_budget_ms. */
void	 jobs_run_after(struct app *);

#endif
