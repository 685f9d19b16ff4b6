/*
 * conf: the service configuration (DESIGN §5).
 *
 * One "key = value" file, named by PBSYNC_CONFIG or the compiled-in default;
 * a missing default file is fine, a missing named file is an error.  Every
 * key can be overridden by the environment variable PBSYNC_<KEY> (upper
 * case), which is how tests and shared hosting set it.  Unknown keys are
 * refused so that a typo does not silently keep a default.
 */
#ifndef PBSYNC_CONF_H
#define PBSYNC_CONF_H

#include "base/log.h"

struct conf {
	char		*database;		/* SQLite file */
	char		*key_file;		/* 32-byte token key */
	char		*public_url;		/* base of the URLs we register */
	char		*productboard_api_url;
	char		*templates;		/* template directory */
	char		*log_file;		/* "" = stderr */
	char		*log_target;		/* "", stderr, file, syslog */
	char		*syslog_socket;
	enum log_target	 log_to;		/* log_target resolved */
	enum log_level	 log_level;
	int		 metrics;		/* count, flush and serve them */
	int		 allow_private_upstreams;
	long		 max_body;		/* bytes, inbound JSON bodies */
	long		 tracker_max_body;	/* bytes, tracker deliveries */
	long		 http_timeout_ms;	/* total per upstream call */
	long		 push_budget_ms;	/* synchronous part of a push */
	long		 job_budget_ms;		/* jobs run after a response */
	long		 job_max_attempts;
	long		 job_lease_s;		/* a dead worker's job is retaken */
	long		 cpu_budget_s;		/* per request, per job */
	long		 reconcile_interval_s;
	long		 worker_poll_ms;	/* a worker not woken looks */
	long		 delivery_retention_s;	/* how long dedupe keys are kept */
	char		*action_reply;		/* "v2" or "both" */
	char		*http_proxy;		/* "" for none (not *_proxy) */
};

/* Fills c from defaults, the file and the environment; 0 or -1 (logged). */
int	 conf_load(struct conf *);
void	 conf_release(struct conf *);
/* Path of the file conf_load reads. */
const char *conf_path(void);

#endif
