/*
 * pages: the integrations list, an integration's page (links, sync log,
 * failed jobs), deleting an integration and retrying a failed job.
 */
#ifndef PBSYNC_PAGES_H
#define PBSYNC_PAGES_H

#include "admin/view.h"

void	 pages_list(struct view *);
void	 pages_integration(struct view *);
void	 pages_delete(struct view *);
void	 pages_retry(struct view *);

#endif
