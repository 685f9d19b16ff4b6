/*
 * sync: the three-way field sync of a link (DESIGN §3), and the jobs that
 * webhooks and reconcile enqueue.
 *
 * Each link keeps the values last synced (its snapshot).  For each field,
 * both sides are re-fetched: changed on one side only → write the other;
 * changed on both → the integration's conflict policy, logged as a
 * conflict; values that already agree → no write.  Our own writes come
 * back as webhooks and find nothing to do: no echo, no time windows.
 *
 * The status map of an integration (JSON):
 *   {"to_gitlab": {"<pb status id>": {"state": "opened"|"closed",
 *                                     "label": "status::in progress"}},
 *    "to_productboard": {"opened": "<pb status id>",
 *                        "closed": "<pb status id>"}}
 * Only labels named in to_gitlab are ever added or removed.
 */
#ifndef PBSYNC_SYNC_H
#define PBSYNC_SYNC_H

#include <cjson/cJSON.h>

#include "flows/ctx.h"
#include "flows/queue.h"
#include "store/store.h"

/* Runs a "sync", "issue_event", "feature_deleted" or "reconcile" job. */
void	 sync_job(struct ctx *, const struct store_job *, struct queue_result *);
/*
 * A default status map from Productboard's statuses: names like done,
 * released, shipped or complete close the issue; the rest keep it open.
 * Heap string or NULL.
 */
char	*sync_default_status_map(const cJSON *statuses);

#endif
