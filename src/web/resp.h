/*
 * resp: the answer a handler builds.
 *
 * Handlers set a status, headers and a body; the server glue writes them.
 * A handler that must answer before its work is done (a push past its time
 * budget) calls resp_commit, which sends the answer at once through the
 * glue's callback; later changes to the resp are then ignored.
 */
#ifndef PBSYNC_RESP_H
#define PBSYNC_RESP_H

#include "base/buf.h"

#define RESP_MAX_BODY	(4u << 20)
/* What a 503 asks the sender to wait before it retries (Retry-After). */
#define RESP_RETRY_AFTER_S	"1"

struct cJSON;

struct resp {
	int		 status;
	char		 content_type[64];
	struct buf	 headers;	/* "Name: value\r\n" lines */
	struct buf	 body;
	int		 committed;
	int		 head_only;	/* HEAD: send no body */
	void		(*send)(struct resp *, void *);
	void		*send_arg;
};

void	 resp_init(struct resp *);
void	 resp_release(struct resp *);
/* Adds a header; refuses names or values with CR, LF or NUL: 0 or -1. */
int	 resp_header(struct resp *, const char *name, const char *value);
void	 resp_text(struct resp *, int status, const char *text);
/* Renders j as the body (j stays the caller's). */
void	 resp_json(struct resp *, int status, const struct cJSON *);
/* A fixed JSON error body {"error": message}; never internal details. */
void	 resp_error(struct resp *, int status, const char *message);
void	 resp_empty(struct resp *, int status);
/*
 * 503 with Retry-After: nothing was stored (the database is locked, full or
 * unusable) and the same request may simply be sent again.
 */
void	 resp_unavailable(struct resp *, const char *message);
/* Sends the answer now if the glue allows it; idempotent. */
void	 resp_commit(struct resp *);
const char *resp_reason(int status);
/* Writes status line, headers and body into out (CGI/FastCGI form). */
int	 resp_serialize(const struct resp *, struct buf *out);

#endif
