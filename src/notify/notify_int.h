/* Inside notify: the sealed parts of a channel. */
#ifndef PBSYNC_NOTIFY_INT_H
#define PBSYNC_NOTIFY_INT_H

#include "app/app.h"
#include "store/store.h"

/*
 * Opens a channel's "url", "secret" or "old_secret": a heap string to free
 * with crypto_free_secret, or NULL (none, or tampered).
 */
char	*notify_open(struct app *, const struct store_channel *,
	    const char *what);

#endif
