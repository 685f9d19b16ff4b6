#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/util.h"
#include "web/form.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes [p, p+n) into out ('+' is a space).  -1 for a '%' not
 * followed by two hex digits: browsers never send one, so it is an attack
 * or a broken client.
 */
static int
decode(const char *p, size_t n, struct buf *out)
{
	size_t	 i;
	int	 hi, lo;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= n ||
			    (hi = hexval((unsigned char)p[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)p[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (buf_putc(out, c) == -1)
			return -1;
	}
	return buf_append(out, "", 0);
}

/* 1 if s is valid UTF-8 without control characters but those in allow. */
static int
text_ok(const char *s, size_t len, const char *allow)
{
	char	*copy;
	size_t	 i;
	int	 ok;

	if (memchr(s, '\0', len) != NULL)
		return 0;
	if ((copy = malloc(len + 1)) == NULL)
		return 0;
	memcpy(copy, s, len);
	copy[len] = '\0';
	/* util_text_ok allows tab: take it out unless allowed. */
	for (i = 0; i < len; i++)
		if (copy[i] == '\t' && strchr(allow, '\t') == NULL)
			copy[i] = '\x01';
		else if (copy[i] != '\0' && strchr(allow, copy[i]) != NULL)
			copy[i] = ' ';
	ok = util_text_ok(copy, len);
	free(copy);
	return ok;
}

/* Trims ASCII spaces around [*p, *p+*n). */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Validates a decoded value into v. */
static void
check(const struct form_field *f, const char *s, size_t len,
    struct form_value *v)
{
	size_t	 max = f->maxlen > 0 ? f->maxlen : FORM_MAX_LEN;
	long	 n;

	if (f->type == FORM_LINE || f->type == FORM_SECRET)
		trim(&s, &len);
	v->status = FORM_INVALID;
	if (f->type == FORM_INT) {
		char	 num[32];

		/* A NUL would end the number early: "5%00junk" is not 5. */
		if (len == 0 || len >= sizeof(num) ||
		    memchr(s, '\0', len) != NULL) {
			v->why = len == 0 ? "missing" : "not a number";
			return;
		}
		memcpy(num, s, len);
		num[len] = '\0';
		if (util_parse_long(num, (long)f->min, (long)f->max, &n) == -1) {
			v->why = "not a number in range";
			return;
		}
		v->n = n;
	} else if (len > max) {
		v->why = "too long";
		return;
	} else if (!text_ok(s, len, f->type == FORM_TEXT ? "\t\r\n" : "")) {
		v->why = "not valid text";
		return;
	}
	if ((v->s = malloc(len + 1)) == NULL) {
		v->why = "out of memory";
		return;
	}
	memcpy(v->s, s, len);
	v->s[len] = '\0';
	v->len = len;
	v->why = NULL;
	v->status = FORM_OK;
}

static const struct form_field *
field(const struct form *f, const char *name, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].name, name) == 0) {
			*idx = i;
			return &f->fields[i];
		}
	return NULL;
}

int
form_parse(struct form *f, const struct form_field *fields, size_t n,
    const char *body, size_t len)
{
	const char	*p = body, *end = body + len, *amp, *eq;
	struct buf	 name, val;
	const struct form_field *fd;
	size_t		 pairs = 0, idx;
	int		 rc = -1;

	memset(f, 0, sizeof(*f));
	f->fields = fields;
	f->nfields = n;
	buf_init(&name, 256);
	buf_init(&val, 1u << 20);
	if ((f->v = calloc(n > 0 ? n : 1, sizeof(*f->v))) == NULL)
		goto out;
	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p) {		/* "a=1&&b=2": empty pairs are skipped */
			p++;
			continue;
		}
		if (++pairs > FORM_MAX_PAIRS)
			goto out;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		if (decode(p, (size_t)(eq - p), &name) == -1 ||
		    decode(eq < amp ? eq + 1 : amp, eq < amp ?
		    (size_t)(amp - eq - 1) : 0, &val) == -1)
			goto out;
		if (name.len != strlen(buf_str(&name)) ||
		    (fd = field(f, buf_str(&name), &idx)) == NULL)
			f->ignored++;
		else if (f->v[idx].status != FORM_ABSENT)
			goto out;	/* given twice: which one would we trust? */
		else
			check(fd, buf_str(&val), val.len, &f->v[idx]);
		if (val.data != NULL)
			crypto_wipe(val.data, val.len);
		p = amp < end ? amp + 1 : end;
	}
	rc = 0;
out:
	buf_release(&name);
	if (val.data != NULL)
		crypto_wipe(val.data, val.len);
	buf_release(&val);
	return rc;
}

void
form_release(struct form *f)
{
	size_t	 i;

	for (i = 0; f->v != NULL && i < f->nfields; i++) {
		if (f->v[i].s != NULL && f->fields[i].type == FORM_SECRET)
			crypto_wipe(f->v[i].s, f->v[i].len);
		free(f->v[i].s);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

const char *
form_str(const struct form *f, const char *name)
{
	size_t	 i;

	if (field(f, name, &i) == NULL || f->v[i].status != FORM_OK)
		return NULL;
	return f->v[i].s;
}

int
form_int(const struct form *f, const char *name, long long *out)
{
	size_t	 i;

	if (field(f, name, &i) == NULL || f->v[i].status != FORM_OK ||
	    f->fields[i].type != FORM_INT)
		return -1;
	*out = f->v[i].n;
	return 0;
}

const struct form_field *
form_invalid(const struct form *f, const char **why)
{
	size_t	 i;

	for (i = 0; i < f->nfields; i++)
		if (f->v[i].status == FORM_INVALID) {
			if (why != NULL)
				*why = f->v[i].why;
			return &f->fields[i];
		}
	return NULL;
}

/* RFC 6265 §4.1.1 cookie-octet. */
static int
cookie_octet(int c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

int
form_cookie(const char *h, const char *name, char *out, size_t outlen)
{
	size_t		 nlen = strlen(name), vlen, i;
	const char	*p = h, *semi, *v;

	if (h == NULL || outlen == 0)
		return -1;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		semi = strchr(p, ';');
		if (semi == NULL)
			semi = p + strlen(p);
		if ((size_t)(semi - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			v = p + nlen + 1;
			vlen = (size_t)(semi - v);
			while (vlen > 0 && (v[vlen - 1] == ' ' ||
			    v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (vlen == 0 || vlen >= outlen)
				return -1;
			for (i = 0; i < vlen; i++)
				if (!cookie_octet((unsigned char)v[i]))
					return -1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = *semi == ';' ? semi + 1 : semi;
	}
	return -1;
}
