/*
 * inbound: what every callback route does before its own work.
 *
 * Takes the integration id from the path, finds the integration and checks
 * the secret header against the stored hash in constant time.  An unknown
 * id and a wrong secret get the same 401, so the routes reveal nothing
 * (DESIGN §1).  The body is not read until this has passed, except where
 * the tracker signs the body (TRACKER_AUTH_HMAC_SHA256): there the
 * signature is checked on the exact bytes, before anything parses them.
 */
#ifndef PBSYNC_INBOUND_H
#define PBSYNC_INBOUND_H

#include "app/app.h"
#include "store/store.h"
#include "web/req.h"
#include "web/resp.h"

enum inbound_kind {
	INBOUND_PLUGIN,		/* Authorization, plugin_secret */
	INBOUND_PB_HOOK,	/* Authorization, pb_hook_secret */
	INBOUND_TRACKER_HOOK	/* the backend's header, tracker_hook_secret */
};

/*
 * 0 with *in filled (release it), or -1 with the answer set in rs.  A
 * request that only asks whether it may come in (rq->auth_only) always
 * gets -1: 204 yes, 401 no.
 */
int	 inbound_auth(struct app *, const struct req *, struct resp *,
	    const char *prefix, enum inbound_kind, struct store_integration *);
/*
 * For a tracker that signs its deliveries: reads the body (at most max
 * bytes) and returns 0 if it carries the HMAC-SHA256 of the
 * integration's secret and is JSON, else -1 with the answer set: the
 * same 401 as a wrong secret for anything unsigned (a body too large
 * to check included), 415 only once the signature holds.
 */
int	 inbound_signed(struct app *, struct req *, struct resp *,
	    const struct store_integration *, size_t max,
	    const struct req_reader *);
/* Answers Productboard's probe: 200 text/plain echoing validationToken. */
void	 inbound_probe(const struct req *, struct resp *);
/*
 * Reads a JSON body of at most max bytes into rq->body for a decoder.
 * Returns 0, or -1 with the answer (400/405/411/413/415) set in rs.
 */
int	 inbound_body(struct req *, struct resp *, size_t max,
	    const struct req_reader *);
/* Answers 400 with a decoder's reason, and logs it. */
void	 inbound_refuse(const struct req *, struct resp *, const char *why);

#endif
