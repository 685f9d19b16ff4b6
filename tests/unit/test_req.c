#include "config.h"

#include <string.h>

#include "t.h"
#include "web/req.h"

struct src {
	const char	*data;
	size_t		 off, len;
};

static long
rd(void *arg, char *p, size_t n)
{
	struct src	*s = arg;

	if (n > 3)
		n = 3;				/* short reads on purpose */
	if (n > s->len - s->off)
		n = s->len - s->off;
	memcpy(p, s->data + s->off, n);
	s->off += n;
	return (long)n;
}

static int
body(const char *cl, const char *data, size_t max, struct req *r)
{
	char		 clv[64];
	char		*env[] = { "REQUEST_METHOD=POST", clv, NULL };
	struct src	 s = { data, 0, strlen(data) };
	struct req_reader rr = { rd, &s };

	snprintf(clv, sizeof(clv), "CONTENT_LENGTH=%s", cl);
	if (cl == NULL)
		env[1] = NULL;
	req_init(r, env);
	return req_read_body(r, max, &rr);
}

int
main(void)
{
	char	*env[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/plugin/"
		    "0123456789abcdef0123456789abcdef",
		    "QUERY_STRING=a=1&validationToken=x%2By+z&b", 
		    "CONTENT_TYPE=application/json; charset=utf-8",
		    "HTTP_X_EVIL=a\x01b", NULL };
	struct req	 r;
	struct buf	 v;
	char		 id[33];

	req_init(&r, env);
	CHECK_INT(r.method, REQ_GET);
	CHECK_INT(r.bad, 400);				/* control char header */
	env[4] = NULL;
	req_init(&r, env);
	CHECK_INT(r.bad, 0);
	CHECK_STR(r.path, "/plugin/0123456789abcdef0123456789abcdef");
	buf_init(&v, 100);
	CHECK_INT(req_query(&r, "validationToken", &v), 0);
	CHECK_STR(buf_str(&v), "x+y z");
	CHECK_INT(req_query(&r, "b", &v), -1);		/* no '=' */
	CHECK_INT(req_query(&r, "missing", &v), -1);
	buf_release(&v);
	CHECK(req_content_type_is(&r, "application/json"));
	CHECK(!req_content_type_is(&r, "application/js"));
	CHECK_INT(req_path_id(&r, "/plugin/", id), 0);
	CHECK_STR(id, "0123456789abcdef0123456789abcdef");
	CHECK_INT(req_path_id(&r, "/webhooks/", id), -1);
	env[1] = "DOCUMENT_URI=/plugin/0123456789ABCDEF0123456789abcdef";
	req_init(&r, env);
	CHECK_INT(req_path_id(&r, "/plugin/", id), -1);	/* upper case */
	env[1] = "DOCUMENT_URI=/plugin/0123456789abcdef0123456789abcdef00";
	req_init(&r, env);
	CHECK_INT(req_path_id(&r, "/plugin/", id), -1);	/* too long */

	CHECK_INT(body("5", "hello", 10, &r), 0);
	CHECK_STR(buf_str(&r.body), "hello");
	req_release(&r);
	CHECK_INT(body(NULL, "hello", 10, &r), 411);
	req_release(&r);
	CHECK_INT(body("11", "hello", 10, &r), 413);
	req_release(&r);
	CHECK_INT(body("8", "hello", 10, &r), 400);	/* shorter than said */
	req_release(&r);
	CHECK_INT(body("-1", "hello", 10, &r), 400);
	req_release(&r);
	CHECK_INT(body("0", "", 10, &r), 0);
	CHECK_STR(buf_str(&r.body), "");
	req_release(&r);
	return t_done();
}
