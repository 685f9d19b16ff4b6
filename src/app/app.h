/*
 * app: what every program holds for its lifetime.
 *
 * The configuration, the store connection, the token key and the HTTP
 * client.  app_open is called in each process after any fork (no SQLite
 * connection crosses a fork).  A store that cannot be opened is not fatal:
 * handlers answer 503 and /healthz says why, and the next request retries.
 */
#ifndef PBSYNC_APP_H
#define PBSYNC_APP_H

#include "base/conf.h"
#include "base/crypto.h"
#include "base/http.h"
#include "store/store.h"

struct app {
	const char		*prog;
	struct conf		 conf;
	struct store		 store;
	int			 store_ok;
	struct crypto_key	 key;
	struct http		 http;
};

int	 app_open(struct app *, const char *prog);
void	 app_close(struct app *);
/* Opens the store if it is not open: 0 or -1. */
int	 app_store(struct app *);

#endif
