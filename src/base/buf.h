/*
 * buf: a growable byte buffer with a hard maximum size.
 *
 * Every buffer that holds outside data gets a cap at creation; appending past
 * it fails with -1 and leaves the buffer unchanged, so callers can answer
 * "too big" instead of growing without bound.  The data is always
 * NUL-terminated (not counted in len) so it can be handed to C string APIs.
 */
#ifndef PBSYNC_BUF_H
#define PBSYNC_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* NUL-terminated; NULL until the first append */
	size_t	 len;	/* bytes used, without the terminator */
	size_t	 cap;	/* bytes allocated */
	size_t	 max;	/* largest len allowed */
};

void	 buf_init(struct buf *, size_t max);
void	 buf_release(struct buf *);
void	 buf_reset(struct buf *);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_putc(struct buf *, char);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Returns the data as a heap string the caller frees; the buffer is empty
 * afterwards.  Never NULL on success (an empty buffer gives ""). */
char	*buf_detach(struct buf *);
const char *buf_str(const struct buf *);

#endif
