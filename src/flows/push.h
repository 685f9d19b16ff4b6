/*
 * push: the Push, Unlink and Dismiss buttons (DESIGN §4).
 *
 * A click claims the link row first (unique per integration and feature),
 * so a double click, concurrent clicks or a retried notification make one
 * issue.  The synchronous part has a time budget; past it the caller's
 * answer becomes "progress" (committed at once) and the final state is
 * PUT to Productboard when the work ends, here or in the "push" job that
 * every claim schedules as a safety net.
 */
#ifndef PBSYNC_PUSH_H
#define PBSYNC_PUSH_H

#include <cjson/cJSON.h>

#include "flows/ctx.h"
#include "flows/queue.h"
#include "web/resp.h"

/*
 * Handles button.push; returns the connection to answer (never NULL
 * unless out of memory).  When the budget runs out, calls
 * on_late(late_arg) with a "progress" connection first.
 */
cJSON	*push_click(struct ctx *, const char *feature_id, const char *actor,
	    long budget_ms, void (*on_late)(void *, const cJSON *),
	    void *late_arg);
/* Handles button.unlink and button.dismiss: returns "initial". */
cJSON	*push_unlink(struct ctx *, const char *feature_id, const char *actor,
	    const char *trigger);
/* The "push" job: finishes or repairs a pending push. */
void	 push_job(struct ctx *, const struct store_job *, struct queue_result *);
/* The "unmark" job: removes the footer from an unlinked issue. */
void	 push_unmark_job(struct ctx *, const struct store_job *,
	    struct queue_result *);
/* PUTs a connection state, logging a failure. */
enum http_err push_put_connection(struct ctx *, const char *feature_id,
	    const cJSON *connection);

#endif
