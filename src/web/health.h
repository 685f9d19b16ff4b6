/*
 * health: GET /healthz, served by every program: the status for all,
 * the details for clients on this host or with an API token; and GET
 * /metrics (app/metrics.h), for those clients only.
 */
#ifndef PBSYNC_HEALTH_H
#define PBSYNC_HEALTH_H

#include "app/app.h"
#include "web/req.h"
#include "web/resp.h"

/* 1 if the request was for /healthz or /metrics and has been answered. */
int	 health_handle(struct app *, const struct req *, struct resp *);

#endif
