/*
 * dash: the activity dashboard on the integrations list and on each
 * integration's page: charts of what happened over a range (?range=24h,
 * 7d or 30d), the job queue now and the health in words.  Charts are SVG
 * drawn by the template from the numbers set here, so every text they
 * show is escaped like any other value; one bar per bucket and series.
 */
#ifndef PBSYNC_DASH_H
#define PBSYNC_DASH_H

#include "admin/view.h"
#include "store/store.h"

/* Every integration's activity (list has the n summaries the page shows). */
void	 dash_home(struct view *, struct tmpl_vars *,
	    const struct store_isum *list, size_t n);
/* One integration's activity. */
void	 dash_integration(struct view *, struct tmpl_vars *,
	    const struct store_isum *);

#endif
