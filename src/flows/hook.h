/*
 * hook: webhook ingest for both senders (DESIGN §3 "persist, then
 * acknowledge").
 *
 * Authenticate, parse, take the ids, deduplicate, enqueue one coalesced
 * job, commit, answer.  Nothing here calls an upstream: the job re-fetches
 * both sides, so duplicate, reordered or partial payloads do no harm.
 */
#ifndef PBSYNC_HOOK_H
#define PBSYNC_HOOK_H

#include "app/app.h"
#include "web/req.h"
#include "web/resp.h"

void	 hook_pb_handle(struct app *, struct req *, struct resp *,
	    const struct req_reader *);
void	 hook_tracker_handle(struct app *, struct req *, struct resp *,
	    const struct req_reader *);

#endif
