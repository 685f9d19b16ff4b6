/*
 * libFuzzer harness: md2html on arbitrary bytes, then html2md on what it
 * wrote.  Beyond not crashing, each must keep its promise: Productboard's
 * kind of HTML, then normalised Markdown (tests/unit/conv_check.h).
 * With PBSYNC_FUZZ_FIXPOINT set in the environment, md2html's HTML must
 * also be a fixed point of html → md → html (md2html.h).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html2md.h"
#include "md2html.h"
#include "../unit/conv_check.h"

#define MAX	(1u << 24)

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fail(const char *what, const struct buf *b)
{
	fprintf(stderr, "%s:\n%s\n", what, buf_str(b));
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 h1, md, h2;
	char		 why[128];

	buf_init(&h1, MAX);
	buf_init(&md, MAX);
	buf_init(&h2, MAX);
	if (md2html_convert((const char *)data, size, &h1) == -1)
		fail("md2html failed", &h1);
	if (!conv_html_ok(buf_str(&h1), h1.len, why, sizeof(why)))
		fail(why, &h1);
	if (html2md_convert(buf_str(&h1), h1.len, &md) == -1)
		fail("html2md failed", &h1);
	if (!conv_md_ok(buf_str(&md), md.len))
		fail("html2md: not normalised", &md);
	if (getenv("PBSYNC_FUZZ_FIXPOINT") != NULL &&
	    (md2html_convert(buf_str(&md), md.len, &h2) == -1 ||
	    h1.len != h2.len || memcmp(buf_str(&h1), buf_str(&h2), h1.len) != 0)) {
		fprintf(stderr, "h1:\n%s\nmd:\n%s\n", buf_str(&h1), buf_str(&md));
		fail("not a fixed point, h2", &h2);
	}
	buf_release(&h1);
	buf_release(&md);
	buf_release(&h2);
	return 0;
}
