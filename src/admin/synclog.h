/*
 * synclog: the sync log of every integration, filtered and paged
 * (/admin/log), and the history of one link (/admin/i/ID/links/LINK):
 * each entry with its feature's name, and a sync's changes as what
 * changed and which way.
 */
#ifndef PBSYNC_SYNCLOG_H
#define PBSYNC_SYNCLOG_H

#include "admin/view.h"

/*
 * GET /admin/log?i=&feature=&outcome=&from=&to=&who=&text=&before=:
 * integration id, feature id, ok|failed|conflict|info, a UTC time
 * (YYYY-MM-DD, or with THH:MM) from which and one before which, who
 * (the whole actor, any case), text found in the detail or the feature
 * (id or name, any case, at most 100 characters), and the entry the
 * previous page ended with.  A filter that cannot be read is a 400.
 */
void	 synclog_page(struct view *);
/* GET /admin/i/ID/links/LINK?before=: one link's entries. */
void	 synclog_link(struct view *, long long link_id);

#endif
