/*
 * admin: the configuration pages under /admin/.
 */
#ifndef PBSYNC_ADMIN_H
#define PBSYNC_ADMIN_H

#include "app/app.h"
#include "web/req.h"
#include "web/resp.h"

void	 admin_handle(struct app *, struct req *, struct resp *,
	    const struct req_reader *);

#endif
