/*
 * hooks: an integration's tracker webhook, from its page: what pbsync
 * registered, or what a person enters in the tracker to set it up by hand
 * (tracker_ops.hook_by_hand), with its secret shown once.
 */
#ifndef PBSYNC_HOOKS_H
#define PBSYNC_HOOKS_H

#include "admin/view.h"

/*
 * GET /admin/i/ID/webhook: the webhook; POST (set up by hand only): a new
 * secret, shown this once.
 */
void	 hooks_page(struct view *);
/* The answer to a create whose webhook is set up by hand: its secret. */
void	 hooks_created(struct view *, const char *id, const char *secret);

#endif
