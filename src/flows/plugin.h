/*
 * plugin: Productboard's plugin callback, GET/POST /plugin/{iid}
 * (productboard-api-v2.md §4.3, §4.4).
 */
#ifndef PBSYNC_PLUGIN_H
#define PBSYNC_PLUGIN_H

#include "app/app.h"
#include "web/req.h"
#include "web/resp.h"

void	 plugin_handle(struct app *, struct req *, struct resp *,
	    const struct req_reader *);

#endif
