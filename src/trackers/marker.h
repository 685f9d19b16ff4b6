/*
 * marker: the footer pbsync adds to an issue it created.
 *
 * A link back to the feature and a hidden HTML comment naming it, so that
 * an issue whose creation answer was lost (timeout, crash) is found again
 * instead of created twice.  The sync engine compares and copies
 * descriptions without the footer.
 */
#ifndef PBSYNC_MARKER_H
#define PBSYNC_MARKER_H

#include "base/buf.h"

/* Room kept for the footer in a description, in characters. */
#define MARKER_MAX	4096

/* The marker text for a feature, "pbsync:feature=<id>", into out. */
void	 marker_name(const char *feature_id, char *out, size_t len);
/* Appends the footer for the feature to a Markdown description. */
int	 marker_append(struct buf *md, const char *feature_id,
	    const char *feature_name, const char *feature_url);
/* Length of md without a trailing footer (and the blank lines before). */
size_t	 marker_strip_len(const char *md);
/*
 * Appends len bytes of md without its footer to out: 1 if there was
 * one, 0 if not, -1 past out's maximum (tracker_ops.footer_strip).
 */
int	 marker_strip(const char *md, size_t len, struct buf *out);

#endif
