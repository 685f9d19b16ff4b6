/*
 * util: small string, number and time helpers shared by every module.
 */
#ifndef PBSYNC_UTIL_H
#define PBSYNC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Trims ASCII whitespace in place; returns the new start. */
char	*util_trim(char *);
void	 util_strip_trailing(char *, char);
/* strtonum-style: the whole string must be a number within [min, max]. */
int	 util_parse_long(const char *, long min, long max, long *);
int	 util_parse_bool(const char *, int *);
/*
 * Decodes the UTF-8 sequence at s (n bytes left) into *cp and returns its
 * length, or 0 if it is invalid, overlong, a surrogate or truncated.
 */
size_t	 util_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* The characters (code points; a stray byte counts one) of s. */
size_t	 util_utf8_chars(const char *s);
/* 1 if s has no control characters (except tab) and valid UTF-8. */
int	 util_text_ok(const char *, size_t);
/* Milliseconds on the monotonic clock. */
int64_t	 util_mono_ms(void);
/* Seconds since the epoch with a fraction, from the real-time clock. */
double	 util_now(void);
/*
 * Parses the timestamps GitLab and Productboard send into epoch seconds:
 * ISO 8601 with optional fraction and Z or ±hh:mm, "YYYY-MM-DD hh:mm:ss UTC"
 * and "YYYY-MM-DD hh:mm:ss ±hhmm" (gittab-api.md §5.3).  0 or -1.
 */
int	 util_parse_time(const char *, double *);
/* Formats epoch seconds as "YYYY-MM-DDThh:mm:ssZ" into out[32]. */
void	 util_format_time(double, char out[32]);

#endif
