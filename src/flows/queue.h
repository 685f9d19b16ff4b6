/*
 * queue: running the durable jobs of the store (DESIGN §3).
 *
 * Lease one due job, run it, then delete it, schedule a retry with capped
 * exponential backoff and jitter, or bury it as dead with its error after
 * the last attempt.  Run by the worker, by drain (cron) and by each
 * FastCGI program after its answer, for a bounded time.  The queue knows
 * no job by name: it runs the handler that the caller's table gives for
 * the job's kind (the flows' table is in jobs.c).
 */
#ifndef PBSYNC_QUEUE_H
#define PBSYNC_QUEUE_H

#include "app/app.h"
#include "base/http.h"
#include "store/store.h"

struct ctx;

enum queue_status {
	QUEUE_DONE,
	QUEUE_RETRY,	/* try again later: retry_in, or the backoff */
	QUEUE_WAIT,	/* not a failure (link busy, push in flight): run
			   again in retry_in s, the attempt is not counted */
	QUEUE_DEAD	/* no point retrying: keep the error for an admin */
};

struct queue_result {
	enum queue_status status;
	long		 retry_in;	/* seconds; -1: use the backoff */
	char		 error[512];
};

/* A kind of job and what runs it; a table ends with a NULL kind. */
struct queue_kind {
	const char	*kind;
	void		(*run)(struct ctx *, const struct store_job *,
			    struct queue_result *);
	int		 max_attempts;	/* 0: job_max_attempts */
	int		 tell_dead;	/* a dead job is a sync.failed event */
};

/*
 * The jobs a runner takes: of every kind (kind NULL), of one kind only
 * (only), or of all kinds but one.  A slow receiver of notifications thus
 * holds up only the runner of their lane, never a sync.
 */
struct queue_lane {
	const char	*kind;
	int		 only;
};

/*
 * Runs one due job of the lane (NULL: any) with the handler kinds names
 * for it (a kind the table lacks makes the job dead): 1 if one ran, 0 if
 * none was due, -1 on error.
 */
int	 queue_run_one(struct app *, const struct queue_kind *kinds,
	    const struct queue_lane *);
/* Runs due jobs of the lane until none is left or budget_ms has passed. */
int	 queue_run(struct app *, const struct queue_kind *,
	    const struct queue_lane *, long budget_ms);
/* Seconds before attempt n+1: capped exponential with jitter. */
double	 queue_backoff(long long attempts);
/* Fills r from an upstream failure: retryable or dead. */
void	 queue_fail(struct queue_result *, enum http_err, long retry_after,
	    const char *error);

#endif
