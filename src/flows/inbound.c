#include "config.h"

#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/util.h"
#include "flows/ctx.h"
#include "flows/inbound.h"
#include "trackers/tracker.h"

#define MAX_TOKEN	256

/* "sha256=" and 64 hex digits: the shape of a signature header. */
static int
signature_shaped(const char *sig)
{
	return sig != NULL && strncmp(sig, "sha256=", 7) == 0 &&
	    strlen(sig + 7) == 2 * CRYPTO_MAC_LEN &&
	    strspn(sig + 7, "0123456789abcdefABCDEF") == 2 * CRYPTO_MAC_LEN;
}

/*
 * A tracker that signs the body: the check waits for the body
 * (inbound_signed).  nginx's question from the headers gets a yes for a
 * POST with a signature of the right shape, and the 401 of an unknown
 * id otherwise, so that nothing but the body tells a known id.
 */
static int
signed_later(const struct req *rq, struct resp *rs,
    struct store_integration *in, const struct tracker_ops *ops)
{
	if (rq->method != REQ_POST ||
	    !signature_shaped(req_param(rq, ops->auth_header))) {
		log_info("refused %s: %s", rq->path, rq->method != REQ_POST ?
		    "not a POST" : "no signature");
		store_integration_release(in);
		resp_error(rs, 401, "unauthorized");	/* as an unknown id */
		return -1;
	}
	if (rq->auth_only) {
		store_integration_release(in);
		resp_empty(rs, 204);
		return -1;
	}
	return 0;
}

int
inbound_signed(struct app *a, struct req *rq, struct resp *rs,
    const struct store_integration *in, size_t max,
    const struct req_reader *rd)
{
	const struct tracker_ops *ops = tracker_find(in->tracker_kind);
	const char	*sig = NULL;
	char		*secret = NULL, want[2 * CRYPTO_MAC_LEN + 1];
	int		 ok = 0, st = -1;

	if (ops != NULL)
		sig = req_param(rq, ops->auth_header);
	/*
	 * The body first, whatever its type: until the signature is
	 * checked, any other answer (411, 413, 415) would tell a known id,
	 * so a body that cannot be read whole is refused as unsigned.
	 */
	if (rq->method == REQ_POST && signature_shaped(sig))
		st = req_read_body(rq, max, rd);
	if (st == 500) {
		resp_unavailable(rs, "out of memory");
		return -1;
	}
	if (st == 0 && (secret = ctx_open_sealed(a, in->id,
	    "tracker_hook_secret", in->tracker_hook_secret)) != NULL) {
		crypto_hmac_sha256_hex(secret, rq->body.data != NULL ?
		    rq->body.data : "", rq->body.len, want);
		ok = crypto_equal(want, sig + 7, sizeof(want) - 1);
	}
	crypto_free_secret(secret);
	if (ok && !req_content_type_is(rq, "application/json")) {
		resp_error(rs, 415, "expected application/json");
		return -1;
	}
	if (ok)
		return 0;
	log_info("refused %s: %s", rq->path, sig == NULL ? "no signature" :
	    st > 0 ? "a body that cannot be checked" : "wrong signature");
	resp_error(rs, 401, "unauthorized");	/* as a wrong secret */
	return -1;
}

int
inbound_auth(struct app *a, const struct req *rq, struct resp *rs,
    const char *prefix, enum inbound_kind kind, struct store_integration *in)
{
	const struct tracker_ops *ops = NULL;
	char		 id[33];
	const char	*presented, *stored = NULL;
	int		 rc = STORE_NOTFOUND, ok;

	memset(in, 0, sizeof(*in));
	presented = req_param(rq, "HTTP_AUTHORIZATION");
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
	if (rc == 0 && kind == INBOUND_TRACKER_HOOK &&
	    (ops = tracker_find(in->tracker_kind)) == NULL)
		rc = STORE_NOTFOUND;
	if (rc == 0 && kind == INBOUND_TRACKER_HOOK &&
	    ops->auth == TRACKER_AUTH_HMAC_SHA256)
		return signed_later(rq, rs, in, ops);
	if (rc == 0 && kind == INBOUND_TRACKER_HOOK)
		presented = req_param(rq, ops->auth_header);
	if (rc == 0)
		stored = kind == INBOUND_PLUGIN ? in->plugin_secret :
		    kind == INBOUND_PB_HOOK ? in->pb_hook_secret :
		    in->tracker_hook_secret;
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
