/*
 * link: an issue that already exists linked to a feature, no issue
 * created (the admin page's "Link an existing issue", pbsyncctl link).
 *
 * Both are read first (the feature from Productboard, the issue from the
 * tracker, in the integration's project), and a feature already linked
 * or an issue linked to another feature is refused; the link is stored in
 * one transaction that checks both again, so a double submit makes one.
 * The Productboard column shows the link at once, and the link's first
 * sync round runs right away: with no snapshot yet, each field the two
 * sides disagree on goes the way of the conflict policy, the issue gets
 * pbsync's footer, and the sync log says which side each field kept.
 */
#ifndef PBSYNC_LINK_H
#define PBSYNC_LINK_H

#include <stddef.h>

#include "app/app.h"

enum link_rc {
	LINK_DONE,	/* linked; the message says what the first sync kept */
	LINK_REFUSED,	/* nothing changed; the message says why */
	LINK_FAILED	/* an upstream or the store failed; nothing changed */
};

/*
 * Links the issue named by issue (its web URL, or its reference in the
 * tracker's terms) to the feature named by feature (its Productboard URL
 * or id) in integration iid, as actor.  msg gets a sentence for people.
 */
enum link_rc link_existing(struct app *, const char *iid, const char *feature,
	    const char *issue, const char *actor, char *msg, size_t len);

#endif
