/*
 * pages: the integrations list, an integration's page (links, sync log,
 * failed jobs), deleting an integration, retrying a failed job and
 * linking an existing issue to a feature.
 */
#ifndef PBSYNC_PAGES_H
#define PBSYNC_PAGES_H

#include "admin/view.h"

void	 pages_list(struct view *);
void	 pages_integration(struct view *);
void	 pages_delete(struct view *);
void	 pages_retry(struct view *);
/* POST /admin/i/ID/link: an existing issue linked to a feature. */
void	 pages_link(struct view *);

#endif
