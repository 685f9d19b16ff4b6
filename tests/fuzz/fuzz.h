/*
 * fuzz.h: what the harnesses share.  A broken invariant aborts, so that
 * libFuzzer keeps the input as a finding, as it does for a crash.
 */
#ifndef PBSYNC_FUZZ_H
#define PBSYNC_FUZZ_H

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/util.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

static inline void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

/*
 * 1 if the array s of size bytes holds a string of 1..max bytes that
 * util_text_ok accepts: what the json_ getters promise their callers.
 */
static inline int
fuzz_text_ok(const char *s, size_t size, size_t max)
{
	size_t	 n = strnlen(s, size);

	return n > 0 && n < size && n <= max && util_text_ok(s, n);
}

/*
 * Appends s as a JSON string, with every ASCII byte but letters and digits
 * as a \u escape.
 */
static inline int
fuzz_print_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char		 esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	size_t		 n;

	if (buf_putc(b, '"') == -1)
		return -1;
	while (*p != '\0') {
		for (n = 0; p[n] >= 0x80 || isalnum(p[n]); n++)
			;
		if (buf_append(b, p, n) == -1)
			return -1;
		if (p[n] == '\0')
			break;
		esc[4] = hex[p[n] >> 4];
		esc[5] = hex[p[n] & 0xf];
		if (buf_append(b, esc, sizeof(esc)) == -1)
			return -1;
		p += n + 1;
	}
	return buf_putc(b, '"');
}

/* Appends v as JSON: numbers exactly ("%.17g"), strings as above. */
static inline int
fuzz_print(struct buf *b, const cJSON *v)
{
	const cJSON	*it;
	int		 obj = cJSON_IsObject(v), rc;

	if (cJSON_IsNumber(v))
		return isinf(v->valuedouble) ? buf_puts(b,
		    v->valuedouble > 0 ? "1e999" : "-1e999") :
		    buf_printf(b, "%.17g", v->valuedouble);
	if (cJSON_IsString(v))
		return fuzz_print_string(b, v->valuestring);
	if (!obj && !cJSON_IsArray(v))
		return buf_puts(b, cJSON_IsNull(v) ? "null" :
		    cJSON_IsTrue(v) ? "true" : "false");
	rc = buf_putc(b, obj ? '{' : '[');
	for (it = v->child; it != NULL && rc == 0; it = it->next) {
		if (it != v->child)
			rc = buf_putc(b, ',');
		if (rc == 0 && obj &&
		    (rc = fuzz_print_string(b, it->string)) == 0)
			rc = buf_putc(b, ':');
		if (rc == 0)
			rc = fuzz_print(b, it);
	}
	return rc == 0 ? buf_putc(b, obj ? '}' : ']') : -1;
}

/*
 * The body spelled another way: the same JSON value without its spacing,
 * with other escapes and number formats.  A decoder must answer alike
 * for both.  (cJSON's own printer will not do: it rounds some numbers to
 * 15 digits.)  Returns a heap string to free, or NULL when the body does
 * not parse or memory runs out.
 */
static inline char *
fuzz_respell(const uint8_t *data, size_t size)
{
	struct buf	 b;
	cJSON		*j;
	int		 rc;

	if ((j = json_parse((const char *)data, size)) == NULL)
		return NULL;
	buf_init(&b, 8 * size + 64);
	rc = fuzz_print(&b, j);
	cJSON_Delete(j);
	if (rc == 0)
		return buf_detach(&b);
	buf_release(&b);
	return NULL;
}

/* A decoder of JSON bodies under test, and what it promises. */
struct fuzz_decoder {
	/* The library function: 0, or -1 with the answer's error set. */
	int	(*decode)(void *out, const char *body, size_t len);
	size_t	 size;		/* of its answer */
	size_t	 error;		/* offset of the answer's "const char *error" */
	/* Aborts unless an accepted answer keeps the decoder's promises. */
	void	(*check)(const void *out);
};

/*
 * Decodes the body into a and checks the answer: a reason with -1, none
 * with 0.  Then decodes its respelling into b, which must give the same
 * answer (the decoders zero theirs first, so memcmp compares them): a
 * decoder depends on the JSON value only.
 */
static inline void
fuzz_decode(const struct fuzz_decoder *d, void *a, void *b,
    const uint8_t *data, size_t size)
{
	const char	*error;
	char		*again;
	int		 rc;

	rc = d->decode(a, (const char *)data, size);
	memcpy(&error, (const char *)a + d->error, sizeof(error));
	if (rc == -1)
		FUZZ_CHECK(error != NULL && error[0] != '\0');
	else {
		FUZZ_CHECK(rc == 0 && error == NULL);
		d->check(a);
	}
	if ((again = fuzz_respell(data, size)) == NULL)
		return;
	FUZZ_CHECK(d->decode(b, again, strlen(again)) == rc);
	FUZZ_CHECK(memcmp(a, b, d->size) == 0);
	free(again);
}

#endif
