/* api: the JSON API under /api/v1 (DESIGN §10). */
#ifndef PBSYNC_API_H
#define PBSYNC_API_H

#include "app/app.h"
#include "web/req.h"
#include "web/resp.h"

void	 api_handle(struct app *, struct req *, struct resp *,
	    const struct req_reader *);

#endif
