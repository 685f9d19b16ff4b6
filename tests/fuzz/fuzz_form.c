/*
 * libFuzzer harness: form bodies against a field table of every type, and
 * the same bytes as a Cookie header (form.h).  Beyond not crashing, what
 * a handler reads is what form.h promises: a valid field is text without
 * NUL or control characters (a textarea may hold tab, CR and LF), within
 * its length, a line has no surrounding spaces, an integer is within its
 * bounds, an invalid field says why; a cookie value is 1..outlen - 1
 * cookie-octets.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "web/form.h"

static const struct form_field fields[] = {
	{ "csrf", FORM_LINE, 64, 0, 0 },
	{ "name", FORM_LINE, 0, 0, 0 },
	{ "text", FORM_TEXT, 4096, 0, 0 },
	{ "token", FORM_SECRET, 1024, 0, 0 },
	{ "n", FORM_INT, 0, -5, 1LL << 40 },
};
#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

/* 1 if the len bytes at s are valid text for a field of type t. */
static int
text_ok(const char *s, size_t len, enum form_type t)
{
	char	*c;
	size_t	 i;
	int	 ok;

	if ((c = strndup(s, len)) == NULL)
		return 0;
	for (i = 0; i < len; i++)
		if (t == FORM_TEXT && strchr("\t\r\n", c[i]) != NULL)
			c[i] = ' ';
		else if (c[i] == '\t')
			c[i] = '\x01';	/* util_text_ok allows it */
	ok = util_text_ok(c, len);
	free(c);
	return ok;
}

static void
check_value(const struct form_field *fd, const struct form_value *v,
    const char *got)
{
	size_t	 max = fd->maxlen > 0 ? fd->maxlen : FORM_MAX_LEN;

	if (v->status == FORM_INVALID)
		FUZZ_CHECK(v->why != NULL && got == NULL);
	if (v->status != FORM_OK) {
		FUZZ_CHECK(got == NULL);
		return;
	}
	FUZZ_CHECK(got == v->s && strlen(v->s) == v->len);
	if (fd->type == FORM_INT) {
		FUZZ_CHECK(v->n >= fd->min && v->n <= fd->max);
		return;
	}
	FUZZ_CHECK(v->len <= max && text_ok(v->s, v->len, fd->type));
	if (fd->type != FORM_TEXT && v->len > 0)
		FUZZ_CHECK(v->s[0] != ' ' && v->s[v->len - 1] != ' ');
}

static void
check_cookie(const uint8_t *data, size_t size)
{
	char	*copy, out[64];
	size_t	 n;

	if ((copy = malloc(size + 1)) == NULL)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (form_cookie(copy, "pbsync_session", out, sizeof(out)) == 0) {
		n = strnlen(out, sizeof(out));
		FUZZ_CHECK(n > 0 && n < sizeof(out));
		FUZZ_CHECK(strspn(out, "!#$%&'()*+-./0123456789:<=>?@"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz"
		    "{|}~") == n);
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form	 f;
	const struct form_field *bad;
	const char	*why = NULL;
	long long	 n;
	size_t		 i;

	if (form_parse(&f, fields, NFIELDS, (const char *)data, size) == 0) {
		for (i = 0; i < NFIELDS; i++)
			check_value(&fields[i], &f.v[i],
			    form_str(&f, fields[i].name));
		if (form_int(&f, "n", &n) == 0)
			FUZZ_CHECK(n == f.v[4].n);
		if ((bad = form_invalid(&f, &why)) != NULL)
			FUZZ_CHECK(why != NULL &&
			    f.v[bad - fields].status == FORM_INVALID);
	}
	form_release(&f);
	check_cookie(data, size);
	return 0;
}
