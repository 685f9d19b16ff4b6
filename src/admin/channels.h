/* admin_channels: an integration's notification channels, from its page. */
#ifndef PBSYNC_CHANNELS_H
#define PBSYNC_CHANNELS_H

#include "admin/view.h"

/* POST /admin/i/ID/channels: connect, or update and turn back on. */
void	 channels_connect(struct view *);
/* POST /admin/i/ID/channels/TYPE/test: a sample, and what came of it. */
void	 channels_test(struct view *, const char *type);
/* POST /admin/i/ID/channels/TYPE/delete: for good. */
void	 channels_disconnect(struct view *, const char *type);

#endif
