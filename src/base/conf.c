#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/conf.h"
#include "base/util.h"

#ifndef PBSYNC_SYSCONFDIR
#define PBSYNC_SYSCONFDIR "/etc"
#endif
#ifndef PBSYNC_LOCALSTATEDIR
#define PBSYNC_LOCALSTATEDIR "/var"
#endif
#ifndef PBSYNC_DATADIR
#define PBSYNC_DATADIR "/usr/share/pbsync"
#endif

enum kind { K_STR, K_BOOL, K_LONG, K_LEVEL };

struct key {
	const char	*name;
	enum kind	 kind;
	size_t		 off;
	long		 min, max;	/* K_LONG bounds */
};

#define S(f)		{ #f, K_STR, offsetof(struct conf, f), 0, 0 }
#define B(f)		{ #f, K_BOOL, offsetof(struct conf, f), 0, 0 }
#define L(f, lo, hi)	{ #f, K_LONG, offsetof(struct conf, f), lo, hi }

static const struct key keys[] = {
	S(database), S(key_file), S(public_url), S(productboard_api_url),
	S(templates), S(log_file), S(action_reply), S(http_proxy),
	S(log_target), S(syslog_socket),
	{ "log_level", K_LEVEL, offsetof(struct conf, log_level), 0, 0 },
	B(allow_private_upstreams), B(metrics),
	L(max_body, 1024, 64L << 20),
	L(tracker_max_body, 1024, 64L << 20),
	L(http_timeout_ms, 100, 120000),
	L(push_budget_ms, 100, 4500),
	L(job_budget_ms, 0, 60000),
	L(job_max_attempts, 1, 100),
	L(job_lease_s, 2, 3600),
	L(cpu_budget_s, 1, 3600),
	L(reconcile_interval_s, 10, 86400),
	L(worker_poll_ms, 10, 600000),
	L(delivery_retention_s, 3600, 366L * 86400),
};

/* Keys renamed since a release: the old name is still read. */
static const struct { const char *old, *name; } renamed[] = {
	{ "gitlab_max_body", "tracker_max_body" },	/* before GitHub */
};

const char *
conf_path(void)
{
	const char	*p = getenv("PBSYNC_CONFIG");

	return p != NULL && *p != '\0' ? p : PBSYNC_SYSCONFDIR "/pbsync.conf";
}

static int
set(struct conf *c, const struct key *k, const char *v, const char *where)
{
	void	*field = (char *)c + k->off;
	char	*s;
	long	 n;

	switch (k->kind) {
	case K_STR:
		if ((s = strdup(v)) == NULL)
			return -1;
		free(*(char **)field);
		*(char **)field = s;
		return 0;
	case K_BOOL:
		if (util_parse_bool(v, (int *)field) == 0)
			return 0;
		break;
	case K_LONG:
		if (util_parse_long(v, k->min, k->max, &n) == 0) {
			*(long *)field = n;
			return 0;
		}
		break;
	case K_LEVEL:
		if (log_level_parse(v, (enum log_level *)field) == 0)
			return 0;
		break;
	}
	log_err("invalid value for \"%s\" in %s", k->name, where);
	return -1;
}

static const struct key *
find(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].name) == len &&
		    strncasecmp(keys[i].name, name, len) == 0)
			return &keys[i];
	for (i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
		if (strlen(renamed[i].old) == len &&
		    strncasecmp(renamed[i].old, name, len) == 0)
			return find(renamed[i].name, strlen(renamed[i].name));
	return NULL;
}

static int
defaults(struct conf *c)
{
	static const struct { const char *k, *v; } d[] = {
		{ "database", PBSYNC_LOCALSTATEDIR "/lib/pbsync/pbsync.db" },
		{ "key_file", PBSYNC_SYSCONFDIR "/pbsync.key" },
		{ "public_url", "http://127.0.0.1:8080" },
		{ "productboard_api_url", "https://api.productboard.com" },
		{ "templates", PBSYNC_DATADIR "/templates" },
		{ "log_file", "" },
		/* "": a file when log_file names one, else stderr. */
		{ "log_target", "" },
		{ "syslog_socket", "/dev/log" },
		{ "metrics", "true" },
		{ "action_reply", "v2" },
		{ "log_level", "info" },
		{ "allow_private_upstreams", "false" },
		{ "http_proxy", "" },
		{ "max_body", "1048576" },
		{ "tracker_max_body", "8388608" },
		{ "http_timeout_ms", "20000" },
		{ "push_budget_ms", "2500" },
		{ "job_budget_ms", "2000" },
		{ "job_max_attempts", "8" },
		{ "job_lease_s", "120" },
		{ "cpu_budget_s", "10" },
		{ "reconcile_interval_s", "600" },
		/* A wake-up comes at once; this is for one that was lost. */
		{ "worker_poll_ms", "200" },
		/*
		 * 7 days.  A delivery key must outlive every resend of its
		 * delivery: GitLab does not retry on its own, but a resend
		 * from its UI or API reuses the Idempotency-Key, and a failing
		 * hook is disabled for at most 24 h; Productboard retries a
		 * notification for about 18 h (8 attempts, 1 m, 3 m, 9 m, ...).
		 * A week covers both several times over, and a resend after a
		 * weekend.  A duplicate past it costs one redundant sync job
		 * (the job re-reads both sides), never a wrong write.
		 */
		{ "delivery_retention_s", "604800" },
	};
	size_t	 i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (set(c, find(d[i].k, strlen(d[i].k)), d[i].v,
		    "defaults") == -1)
			return -1;
	return 0;
}

/* Parses one "key = value" line; blank lines and # comments are skipped. */
static int
parse_line(struct conf *c, char *line, const char *path, int lineno)
{
	char		*eq, *k, *v, *end, where[PATH_MAX + 32];
	const struct key *key;

	snprintf(where, sizeof(where), "%s:%d", path, lineno);
	k = util_trim(line);
	if (*k == '\0' || *k == '#')
		return 0;
	if ((eq = strchr(k, '=')) == NULL) {
		log_err("missing '=' at %s", where);
		return -1;
	}
	*eq = '\0';
	end = util_trim(k);
	v = util_trim(eq + 1);
	if ((key = find(end, strlen(end))) == NULL) {
		log_err("unknown key \"%s\" at %s", end, where);
		return -1;
	}
	return set(c, key, v, where);
}

static int
load_file(struct conf *c, const char *path, int must_exist)
{
	FILE	*f;
	char	 line[4096];
	int	 lineno = 0, rc = 0;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		log_err("cannot open config \"%s\": %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			log_err("line too long at %s:%d", path, lineno);
			rc = -1;
		} else
			rc = parse_line(c, line, path, lineno);
	}
	fclose(f);
	return rc;
}

static int
env_key(struct conf *c, const char *key, const struct key *k)
{
	char		 name[64];
	const char	*v;
	size_t		 j;

	snprintf(name, sizeof(name), "PBSYNC_%s", key);
	for (j = 7; name[j] != '\0'; j++)
		name[j] = (char)toupper((unsigned char)name[j]);
	if ((v = getenv(name)) != NULL && set(c, k, v, name) == -1)
		return -1;
	return 0;
}

static int
load_env(struct conf *c)
{
	size_t		 i;

	/* The old names first: the new name's variable wins. */
	for (i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
		if (env_key(c, renamed[i].old, find(renamed[i].name,
		    strlen(renamed[i].name))) == -1)
			return -1;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (env_key(c, keys[i].name, &keys[i]) == -1)
			return -1;
	return 0;
}

/* Where the lines go: log_target, or by default log_file's choice. */
static int
resolve_log_target(struct conf *c)
{
	if (*c->log_target == '\0') {
		c->log_to = *c->log_file != '\0' ? LOGT_FILE : LOGT_STDERR;
		return 0;
	}
	if (log_target_parse(c->log_target, &c->log_to) == -1) {
		log_err("invalid value for \"log_target\": stderr, file or "
		    "syslog");
		return -1;
	}
	if (c->log_to == LOGT_FILE && *c->log_file == '\0') {
		log_err("log_target is file but log_file names none");
		return -1;
	}
	return 0;
}

int
conf_load(struct conf *c)
{
	const char	*env = getenv("PBSYNC_CONFIG");

	if (defaults(c) == -1 ||
	    load_file(c, conf_path(), env != NULL && *env != '\0') == -1 ||
	    load_env(c) == -1) {
		conf_release(c);
		return -1;
	}
	util_strip_trailing(c->public_url, '/');
	util_strip_trailing(c->productboard_api_url, '/');
	if (resolve_log_target(c) == -1) {
		conf_release(c);
		return -1;
	}
	return 0;
}

void
conf_release(struct conf *c)
{
	size_t	 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].kind == K_STR) {
			free(*(char **)((char *)c + keys[i].off));
			*(char **)((char *)c + keys[i].off) = NULL;
		}
}
