#include "config.h"

#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/util.h"
#include "flows/inbound.h"

#define MAX_TOKEN	256

int
inbound_auth(struct app *a, const struct req *rq, struct resp *rs,
    const char *prefix, enum inbound_kind kind, struct store_integration *in)
{
	char		 id[33];
	const char	*presented, *stored = NULL;
	int		 rc = STORE_NOTFOUND, ok;

	memset(in, 0, sizeof(*in));
	presented = req_param(rq, kind == INBOUND_GL_HOOK ?
	    "HTTP_X_GITLAB_TOKEN" : "HTTP_AUTHORIZATION");
	if (req_path_id(rq, prefix, id) == 0) {
		if (app_store(a) == -1 ||
		    (rc = store_integration_get(&a->store, id, in)) == -1) {
			/* nginx would make a 503 a 500: the request says it. */
			if (rq->auth_only)
				resp_empty(rs, 204);
			else
				resp_unavailable(rs, "service unavailable");
			return -1;
		}
	}
	if (rc == 0)
		stored = kind == INBOUND_PLUGIN ? in->plugin_secret :
		    kind == INBOUND_PB_HOOK ? in->pb_hook_secret :
		    in->gl_hook_secret;
	/* Always hash and compare, so an unknown id takes as long. */
	ok = crypto_check(presented, stored != NULL ? stored :
	    "0000000000000000000000000000000000000000000000000000000000000000");
	if (rc == 0 && ok && presented != NULL &&
	    strlen(presented) <= MAX_TOKEN) {
		if (!rq->auth_only)
			return 0;
		store_integration_release(in);
		resp_empty(rs, 204);	/* nginx reads the body, then asks */
		return -1;
	}
	log_info("refused %s: %s", rq->path, rc == 0 ?
	    (presented == NULL ? "no secret" : "wrong secret") :
	    "unknown integration");
	store_integration_release(in);
	resp_error(rs, 401, "unauthorized");
	return -1;
}

void
inbound_probe(const struct req *rq, struct resp *rs)
{
	struct buf	 tok;

	buf_init(&tok, 1024);
	if (req_query(rq, "validationToken", &tok) == -1 || tok.len == 0 ||
	    !util_text_ok(buf_str(&tok), tok.len))
		resp_error(rs, 400, "validationToken missing");
	else
		resp_text(rs, 200, buf_str(&tok));
	buf_release(&tok);
}

int
inbound_body(struct req *rq, struct resp *rs, size_t max,
    const struct req_reader *rd)
{
	int	 st;

	if (rq->method != REQ_POST) {
		resp_error(rs, 405, "method not allowed");
		return -1;
	}
	if (!req_content_type_is(rq, "application/json")) {
		resp_error(rs, 415, "expected application/json");
		return -1;
	}
	if ((st = req_read_body(rq, max, rd)) != 0) {
		resp_error(rs, st, st == 413 ? "body too large" :
		    resp_reason(st));
		return -1;
	}
	return 0;
}

void
inbound_refuse(const struct req *rq, struct resp *rs, const char *why)
{
	log_info("refused %s: %s", rq->path, why);
	resp_error(rs, 400, why);
}
