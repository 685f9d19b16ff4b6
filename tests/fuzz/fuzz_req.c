/*
 * libFuzzer harness: request parsing from hostile CGI parameters (path,
 * query string, headers) and a body of a claimed length.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/req.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct src {
	const uint8_t	*p;
	size_t		 left;
};

static long
rd(void *arg, char *out, size_t n)
{
	struct src	*s = arg;

	if (n > s->left)
		n = s->left;
	memcpy(out, s->p, n);
	s->p += n;
	s->left -= n;
	return (long)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*copy, *env[8], *line;
	size_t		 n = 0;
	struct req	 r;
	struct buf	 v;
	char		 id[33];
	struct src	 s;
	struct req_reader rr = { rd, &s };

	/* NUL-separated "NAME=value" entries; the rest is the body. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	line = copy;
	while (n < 7 && line < copy + size) {
		env[n++] = line;
		line += strlen(line) + 1;
	}
	env[n] = NULL;
	s.p = (const uint8_t *)line;
	s.left = line < copy + size ? (size_t)(copy + size - line) : 0;
	req_init(&r, env);
	buf_init(&v, 1024);
	req_query(&r, "validationToken", &v);
	req_query(&r, "a", &v);
	req_path_id(&r, "/plugin/", id);
	req_content_type_is(&r, "application/json");
	req_read_body(&r, 4096, &rr);
	buf_release(&v);
	req_release(&r);
	free(copy);
	return 0;
}
