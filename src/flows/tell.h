/*
 * tell: the flows' side of notifications: the events of an integration
 * (notify_emit with its id and name) and the job that delivers one.
 */
#ifndef PBSYNC_TELL_H
#define PBSYNC_TELL_H

#include "flows/ctx.h"
#include "flows/queue.h"
#include "notify/notify.h"

/* Fills in the integration and queues the event (failures only logged). */
void	 tell(struct ctx *, struct notify_event *);
/* The events of a link: what its feature and issue are. */
void	 tell_link(struct ctx *, const char *event, const char *actor,
	    const struct store_link *, const char *from, const char *to,
	    const char *detail);
/* The "notify" job: one message to one channel. */
void	 tell_job(struct ctx *, const struct store_job *,
	    struct queue_result *);

#endif
