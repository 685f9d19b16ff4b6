#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/util.h"
#include "web/req.h"

static const struct {
	const char	*name;
	enum req_method	 m;
} methods[] = {
	{ "GET", REQ_GET }, { "HEAD", REQ_HEAD }, { "POST", REQ_POST },
	{ "PUT", REQ_PUT }, { "PATCH", REQ_PATCH }, { "DELETE", REQ_DELETE },
};

const char *
req_param(const struct req *r, const char *name)
{
	size_t	 n = strlen(name);
	char	**e;

	for (e = r->env; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/* Refuses oversized or control-character-laden headers up front. */
static int
headers_ok(const struct req *r)
{
	char	**e;
	size_t	 n;

	for (e = r->env; e != NULL && *e != NULL; e++) {
		n = strlen(*e);
		if (n > REQ_MAX_HEADER + 64)
			return 431;
		if (strncmp(*e, "HTTP_", 5) == 0 && !util_text_ok(*e, n))
			return 400;
	}
	return 0;
}

void
req_init(struct req *r, char **env)
{
	const char	*m, *p;
	size_t		 i, n;

	memset(r, 0, sizeof(*r));
	r->env = env;
	buf_init(&r->body, 0);
	r->method = REQ_OTHER;
	if ((m = req_param(r, "REQUEST_METHOD")) != NULL)
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (strcmp(m, methods[i].name) == 0)
				r->method = methods[i].m;
	if ((p = req_param(r, "DOCUMENT_URI")) == NULL || *p == '\0')
		p = req_param(r, "PATH_INFO");
	r->path = p != NULL && *p != '\0' ? p : "/";
	p = req_param(r, "QUERY_STRING");
	r->query = p != NULL ? p : "";
	if ((p = req_param(r, "PBSYNC_AUTH_ONLY")) != NULL &&
	    strcmp(p, "1") == 0 && (p = req_param(r, "REQUEST_URI")) != NULL) {
		r->auth_only = 1;
		n = strcspn(p, "?");
		if (n > REQ_MAX_PATH) {
			r->bad = 414;
			return;
		}
		memcpy(r->uri_path, p, n);
		r->uri_path[n] = '\0';
		r->path = r->uri_path;
		r->query = p[n] == '?' ? p + n + 1 : "";
	}
	if (strlen(r->path) > REQ_MAX_PATH || strlen(r->query) > REQ_MAX_QUERY)
		r->bad = 414;
	else
		r->bad = headers_ok(r);
}

void
req_release(struct req *r)
{
	buf_release(&r->body);
}

int
req_read_body(struct req *r, size_t max, const struct req_reader *rd)
{
	const char	*cl = req_param(r, "CONTENT_LENGTH");
	char		 chunk[16384];
	long		 len, got;
	size_t		 want;

	if (cl == NULL || *cl == '\0')
		return 411;
	if (util_parse_long(cl, 0, 1L << 40, &len) == -1)
		return 400;
	if ((size_t)len > max)
		return 413;
	buf_init(&r->body, (size_t)len);
	while (r->body.len < (size_t)len) {
		want = (size_t)len - r->body.len;
		if (want > sizeof(chunk))
			want = sizeof(chunk);
		if ((got = rd->read(rd->arg, chunk, want)) <= 0)
			return 400;
		if (buf_append(&r->body, chunk, (size_t)got) == -1)
			return 500;
	}
	if (r->body.data == NULL && buf_append(&r->body, "", 0) == -1)
		return 500;
	return 0;
}

int
req_content_type_is(const struct req *r, const char *type)
{
	const char	*ct = req_param(r, "CONTENT_TYPE");
	size_t		 n = strlen(type);

	if (ct == NULL || strncasecmp(ct, type, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* URL-decodes [p, p+n) into out ('+' is a space, as in forms). */
static int
decode(const char *p, size_t n, struct buf *out)
{
	size_t	 i;
	int	 hi, lo;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '+')
			c = ' ';
		else if (c == '%' && i + 2 < n &&
		    (hi = hexval((unsigned char)p[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)p[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (buf_putc(out, c) == -1)
			return -1;
	}
	return 0;
}

int
req_query(const struct req *r, const char *name, struct buf *out)
{
	const char	*p = r->query, *amp, *eq;
	size_t		 n = strlen(name), seg;

	buf_reset(out);
	while (*p != '\0') {
		amp = strchr(p, '&');
		seg = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', seg);
		if (eq != NULL && (size_t)(eq - p) == n &&
		    strncmp(p, name, n) == 0)
			return decode(eq + 1, seg - n - 1, out);
		p += seg;
		if (*p == '&')
			p++;
	}
	return -1;
}

int
req_path_id(const struct req *r, const char *prefix, char id[33])
{
	size_t		 n = strlen(prefix), i;
	const char	*p;

	if (strncmp(r->path, prefix, n) != 0)
		return -1;
	p = r->path + n;
	for (i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)p[i]) || isupper((unsigned char)p[i]))
			return -1;
	if (p[32] != '\0' && strcmp(p + 32, "/") != 0)
		return -1;
	memcpy(id, p, 32);
	id[32] = '\0';
	return 0;
}
