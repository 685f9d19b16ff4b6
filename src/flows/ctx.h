/*
 * ctx: one integration ready to work: its row, its decrypted tokens
 * wrapped in a Productboard client and a tracker.
 */
#ifndef PBSYNC_CTX_H
#define PBSYNC_CTX_H

#include "app/app.h"
#include "store/store.h"
#include "trackers/tracker.h"
#include "upstream/pb.h"

struct ctx {
	struct app		*app;
	struct store_integration in;
	struct pb		 pb;
	struct tracker		 tr;
	int			 ready;
	/* When the delivery behind the job in hand came (0: none). */
	double			 arrived_at;
};

/*
 * Takes ownership of *in (it is moved into ctx and zeroed) and opens the
 * clients.  0, or -1 when a token cannot be decrypted (key file changed).
 */
int	 ctx_open(struct ctx *, struct app *, struct store_integration *in);
/* Loads the integration by id first: 0, STORE_NOTFOUND or -1. */
int	 ctx_load(struct ctx *, struct app *, const char *id);
void	 ctx_close(struct ctx *);
/*
 * After a flow: when either side answered 401 (a revoked token), flags
 * the integration for the admin (its page and pbsyncctl show it) and
 * returns 1; else 0.
 */
int	 ctx_auth_check(struct ctx *);
/* Writes a sync log entry for this integration (errors only logged). */
void	 ctx_log(struct ctx *, const char *actor, const char *action,
	    const char *feature_id, const char *issue_key, const char *result,
	    const char *detail);
/*
 * Opens a secret sealed for the integration's column ("tracker_token"):
 * a heap copy (crypto_free_secret it), or NULL with the wrong key.
 */
char	*ctx_open_sealed(struct app *, const char *id, const char *column,
	    const char *sealed);

#endif
