#include "config.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "web/resp.h"

void
resp_init(struct resp *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->headers, 16384);
	buf_init(&r->body, RESP_MAX_BODY);
	r->status = 500;
}

void
resp_release(struct resp *r)
{
	buf_release(&r->headers);
	buf_release(&r->body);
}

int
resp_header(struct resp *r, const char *name, const char *value)
{
	if (r->committed || strpbrk(name, "\r\n:") != NULL ||
	    strpbrk(value, "\r\n") != NULL)
		return -1;
	return buf_printf(&r->headers, "%s: %s\r\n", name, value);
}

/* Replaces the body and content type, unless already sent. */
static void
set_body(struct resp *r, int status, const char *type, const char *body,
    size_t len)
{
	if (r->committed)
		return;
	r->status = status;
	snprintf(r->content_type, sizeof(r->content_type), "%s", type);
	buf_reset(&r->body);
	if (body != NULL && buf_append(&r->body, body, len) == -1) {
		r->status = 500;
		buf_reset(&r->body);
	}
}

void
resp_text(struct resp *r, int status, const char *text)
{
	set_body(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

void
resp_json(struct resp *r, int status, const cJSON *j)
{
	char	*s;

	if ((s = cJSON_PrintUnformatted(j)) == NULL) {
		resp_error(r, 500, "internal error");
		return;
	}
	set_body(r, status, "application/json", s, strlen(s));
	cJSON_free(s);
}

void
resp_error(struct resp *r, int status, const char *message)
{
	cJSON	*j;

	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "error", message) == NULL) {
		set_body(r, 500, "application/json",
		    "{\"error\":\"internal error\"}", 26);
	} else
		resp_json(r, status, j);
	cJSON_Delete(j);
}

void
resp_empty(struct resp *r, int status)
{
	set_body(r, status, "", NULL, 0);
}

void
resp_unavailable(struct resp *r, const char *message)
{
	if (r->committed)
		return;
	resp_header(r, "Retry-After", RESP_RETRY_AFTER_S);
	resp_error(r, 503, message);
}

void
resp_commit(struct resp *r)
{
	if (r->committed || r->send == NULL)
		return;
	r->send(r, r->send_arg);
	r->committed = 1;
}

const char *
resp_reason(int status)
{
	static const struct { int code; const char *text; } t[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 204, "No Content" }, { 303, "See Other" },
		{ 304, "Not Modified" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 409, "Conflict" }, { 411, "Length Required" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" }, { 422, "Unprocessable Content" },
		{ 429, "Too Many Requests" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].code == status)
			return t[i].text;
	return "Unknown";
}

int
resp_serialize(const struct resp *r, struct buf *out)
{
	int	 rc = 0;

	rc |= buf_printf(out, "Status: %d %s\r\n", r->status,
	    resp_reason(r->status));
	if (r->content_type[0] != '\0')
		rc |= buf_printf(out, "Content-Type: %s\r\n", r->content_type);
	rc |= buf_printf(out, "Content-Length: %zu\r\n", r->body.len);
	rc |= buf_printf(out, "X-Content-Type-Options: nosniff\r\n"
	    "Cache-Control: no-store\r\n");
	rc |= buf_append(out, buf_str(&r->headers), r->headers.len);
	rc |= buf_puts(out, "\r\n");
	if (!r->head_only)
		rc |= buf_append(out, buf_str(&r->body), r->body.len);
	return rc ? -1 : 0;
}
