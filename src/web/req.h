/*
 * req: an incoming request, independent of FastCGI or CGI.
 *
 * The server glue fills env (CGI/FastCGI parameters as "NAME=value") and
 * reads the body through req_read_body, which enforces the limits before a
 * byte of content is parsed.  Handlers read only what req_ functions hand
 * them, so tests can build a req from a plain array.
 */
#ifndef PBSYNC_REQ_H
#define PBSYNC_REQ_H

#include <stddef.h>

#include "base/buf.h"

#define REQ_MAX_PATH	512
#define REQ_MAX_HEADER	4096
#define REQ_MAX_QUERY	4096

enum req_method {
	REQ_GET,
	REQ_HEAD,
	REQ_POST,
	REQ_PUT,
	REQ_PATCH,
	REQ_DELETE,
	REQ_OTHER
};

struct req {
	char		**env;
	enum req_method	 method;
	const char	*path;		/* DOCUMENT_URI or PATH_INFO */
	const char	*query;		/* QUERY_STRING, "" when absent */
	struct buf	 body;
	int		 bad;		/* an HTTP status when the request
					   line or a header broke a limit */
	/*
	 * nginx asks whether to let the request in, from its headers alone
	 * (auth_request, PBSYNC_AUTH_ONLY=1): no body comes, and path and
	 * query are the original request's (REQUEST_URI).
	 */
	int		 auth_only;
	char		 uri_path[REQ_MAX_PATH + 1];
};

/* Reads the body on demand. */
struct req_reader {
	/* Returns bytes read (0 at end of input) or -1. */
	long	(*read)(void *, char *, size_t);
	void	*arg;
};

/* Fills r from env; r->bad says whether a limit was broken. */
void		 req_init(struct req *, char **env);
void		 req_release(struct req *);
/* A parameter ("HTTP_AUTHORIZATION", "CONTENT_TYPE"), or NULL. */
const char	*req_param(const struct req *, const char *name);
/*
 * Reads exactly CONTENT_LENGTH bytes, at most max.  Returns 0, or the
 * status to answer: 411 without a length, 413 when too large, 400 when the
 * body is shorter than announced.
 */
int		 req_read_body(struct req *, size_t max, const struct req_reader *);
/* 1 if the media type (before any ';') equals type, case-insensitively. */
int		 req_content_type_is(const struct req *, const char *type);
/* Copies the URL-decoded query parameter into out; 0, or -1 if absent. */
int		 req_query(const struct req *, const char *name, struct buf *out);
/*
 * Splits path "/prefix/<id>" and checks id is a 32-hex integration id.
 * Returns 0 and copies the id, or -1.
 */
int		 req_path_id(const struct req *, const char *prefix,
		    char id[33]);

#endif
