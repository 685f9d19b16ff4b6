/*
 * libFuzzer harness: the ADF converter (convert/adf.h) both ways on
 * arbitrary bytes.
 *
 * As HTML: adf_from_html gives valid ADF (tests/unit/adf_check.h), which
 * adf_to_html turns into Productboard's HTML (conv_check.h); the footer
 * appended to it (inputs up to FOOTER_MAX) is valid too, found, and
 * stripped back off to the same document.  With PBSYNC_FUZZ_FIXPOINT set,
 * adf_from_html of that HTML must also give the same ADF again.
 *
 * As ADF: adf_to_html gives Productboard's HTML, or -1 for what is not
 * JSON, and adf_from_html of it valid ADF.
 */
#include "config.h"

#include "../unit/adf_check.h"
#include "../unit/conv_check.h"
#include "convert/adf.h"
#include "fuzz.h"

#define MAX	(1u << 24)
/* Larger inputs (tests/fuzz/worst/adf/) test the converter's speed. */
#define FOOTER_MAX	65536

static void
adf_valid(const char *what, const struct buf *b)
{
	char	 why[160];

	if (!adf_ok(buf_str(b), b->len, why, sizeof(why))) {
		fprintf(stderr, "%s: %s\n%s\n", what, why, buf_str(b));
		abort();
	}
}

static void
html_valid(const char *what, const struct buf *b)
{
	char	 why[128];

	if (!conv_html_ok(buf_str(b), b->len, why, sizeof(why))) {
		fprintf(stderr, "%s: %s\n%s\n", what, why, buf_str(b));
		abort();
	}
}

/* The footer on doc: valid, found, and stripped to doc again. */
static void
footer(const struct buf *doc)
{
	struct buf	 d, s;

	buf_init(&d, MAX);
	buf_init(&s, MAX);
	FUZZ_CHECK(adf_marker_strip(buf_str(doc), doc->len, &s) >= 0);
	if (strstr(buf_str(doc), ADF_MARKER_PREFIX) == NULL) {
		FUZZ_CHECK(s.len == doc->len &&
		    memcmp(buf_str(&s), buf_str(doc), s.len) == 0);
		buf_reset(&s);
		FUZZ_CHECK(buf_append(&d, buf_str(doc), doc->len) == 0);
		FUZZ_CHECK(adf_marker_append(&d, "f-1", "Name @ceo",
		    "https://pb.example/f-1") == 0);
		adf_valid("footer", &d);
		FUZZ_CHECK(adf_marker_find(buf_str(&d), d.len,
		    ADF_MARKER_PREFIX "f-1"));
		FUZZ_CHECK(adf_marker_strip(buf_str(&d), d.len, &s) == 1);
		FUZZ_CHECK(s.len == doc->len &&
		    memcmp(buf_str(&s), buf_str(doc), s.len) == 0);
	}
	buf_release(&d);
	buf_release(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 a1, h, a2;

	buf_init(&a1, MAX);
	buf_init(&h, MAX);
	buf_init(&a2, MAX);
	FUZZ_CHECK(adf_from_html((const char *)data, size, &a1) == 0);
	adf_valid("adf_from_html", &a1);
	FUZZ_CHECK(adf_to_html(buf_str(&a1), a1.len, &h) == 0);
	html_valid("adf_to_html of adf_from_html", &h);
	if (size <= FOOTER_MAX)
		footer(&a1);
	if (getenv("PBSYNC_FUZZ_FIXPOINT") != NULL) {
		FUZZ_CHECK(adf_from_html(buf_str(&h), h.len, &a2) == 0);
		if (a2.len != a1.len || memcmp(buf_str(&a1), buf_str(&a2),
		    a1.len) != 0) {
			fprintf(stderr, "a1: %s\nhtml: %s\na2: %s\n",
			    buf_str(&a1), buf_str(&h), buf_str(&a2));
			abort();
		}
	}
	buf_reset(&h);
	buf_reset(&a2);
	if (adf_to_html((const char *)data, size, &h) == 0) {
		html_valid("adf_to_html", &h);
		FUZZ_CHECK(adf_from_html(buf_str(&h), h.len, &a2) == 0);
		adf_valid("adf_from_html of adf_to_html", &a2);
	}
	buf_release(&a1);
	buf_release(&h);
	buf_release(&a2);
	return 0;
}
