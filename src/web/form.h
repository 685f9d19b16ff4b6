/*
 * form: HTML form bodies and cookies, validated before a handler reads
 * them (kcgi struct kvalid).
 *
 * A handler declares a table of the fields it reads, each with a type and
 * a maximum length; form_parse decodes an application/x-www-form-urlencoded
 * body (WHATWG URL standard, "application/x-www-form-urlencoded parsing")
 * and checks every declared field: valid UTF-8, no NUL, no control
 * characters (textareas may hold tab, CR and LF), within its length, and
 * integers within bounds.  Fields not in the table are ignored; handlers
 * read only validated values through form_str and form_int.
 */
#ifndef PBSYNC_FORM_H
#define PBSYNC_FORM_H

#include <stddef.h>

#define FORM_MAX_PAIRS	1024	/* name=value pairs in one body */
#define FORM_MAX_LEN	1000	/* default maximum of a value, in bytes */

enum form_type {
	FORM_LINE,	/* one line; surrounding spaces are trimmed */
	FORM_TEXT,	/* a textarea: tab, CR and LF allowed */
	FORM_SECRET,	/* like FORM_LINE, wiped on release; never echo it */
	FORM_INT	/* a decimal integer within [min, max] */
};

struct form_field {
	const char	*name;
	enum form_type	 type;
	size_t		 maxlen;	/* bytes; 0 means FORM_MAX_LEN */
	long long	 min, max;	/* FORM_INT only */
};

enum form_status {
	FORM_ABSENT,
	FORM_OK,
	FORM_INVALID
};

struct form_value {
	enum form_status status;
	char		*s;		/* FORM_OK: the decoded value */
	size_t		 len;
	long long	 n;		/* FORM_INT */
	const char	*why;		/* FORM_INVALID: a short reason */
};

struct form {
	const struct form_field	*fields;
	size_t			 nfields;
	struct form_value	*v;	/* one per field */
	size_t			 ignored; /* pairs not in the table */
};

/*
 * Parses len bytes of body against the n fields.  0, also when some fields
 * are invalid (form_invalid names the first); -1 when the body itself is
 * malformed (a bad %-escape, a declared field given twice, more than
 * FORM_MAX_PAIRS pairs) or memory runs out.  form_release frees in both
 * cases.
 */
int	 form_parse(struct form *, const struct form_field *, size_t n,
	    const char *body, size_t len);
void	 form_release(struct form *);
/* The validated value of a declared field, or NULL (absent, invalid). */
const char *form_str(const struct form *, const char *name);
/* The validated integer: 0, or -1 when absent or invalid. */
int	 form_int(const struct form *, const char *name, long long *);
/* The first invalid field and why, or NULL when all are valid. */
const struct form_field *form_invalid(const struct form *, const char **why);

/*
 * Finds cookie name in a Cookie header (RFC 6265 §5.4: "a=b; c=d") and
 * copies its value, without surrounding quotes, into out.  0, or -1 when
 * absent, longer than outlen - 1 or holding bytes outside cookie-octet
 * (RFC 6265 §4.1.1).  The first of several cookies of that name wins: the
 * browser sends the one with the longest path first.
 */
int	 form_cookie(const char *header, const char *name, char *out,
	    size_t outlen);

#endif
