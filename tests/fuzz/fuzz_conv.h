/*
 * fuzz_conv.h: the round trip both converter harnesses check, starting
 * from HTML (fuzz_html2md) or from Markdown (fuzz_md2html).  Beyond not
 * crashing, each converter must keep its promise: normalised Markdown and
 * Productboard's kind of HTML (tests/unit/conv_check.h).  With
 * PBSYNC_FUZZ_FIXPOINT set in the environment, the HTML must also be a
 * fixed point of another round trip (md2html.h).
 */
#ifndef PBSYNC_FUZZ_CONV_H
#define PBSYNC_FUZZ_CONV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/conv_check.h"
#include "base/buf.h"
#include "convert/html2md.h"
#include "convert/md2html.h"

#define FUZZ_CONV_MAX	(1u << 24)

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static inline void
fuzz_conv_fail(const char *what, const struct buf *b)
{
	fprintf(stderr, "%s:\n%s\n", what, buf_str(b));
	abort();
}

/* Converts to Markdown (html_first) or HTML, back, and checks both. */
static inline void
fuzz_conv_round(const uint8_t *data, size_t size, int html_first)
{
	struct buf	 md, h1, h2;
	char		 why[128];

	buf_init(&md, FUZZ_CONV_MAX);
	buf_init(&h1, FUZZ_CONV_MAX);
	buf_init(&h2, FUZZ_CONV_MAX);
	if (html_first) {
		if (html2md_convert((const char *)data, size, &md) == -1)
			fuzz_conv_fail("html2md failed", &md);
		if (md2html_convert(buf_str(&md), md.len, &h1) == -1)
			fuzz_conv_fail("md2html failed", &md);
	} else {
		if (md2html_convert((const char *)data, size, &h1) == -1)
			fuzz_conv_fail("md2html failed", &h1);
		if (html2md_convert(buf_str(&h1), h1.len, &md) == -1)
			fuzz_conv_fail("html2md failed", &h1);
	}
	if (!conv_md_ok(buf_str(&md), md.len))
		fuzz_conv_fail("html2md: not normalised", &md);
	if (!conv_md_no_command(buf_str(&md), md.len))
		fuzz_conv_fail("html2md: a line is a GitLab quick action", &md);
	if (!conv_html_ok(buf_str(&h1), h1.len, why, sizeof(why)))
		fuzz_conv_fail(why, &h1);
	if (getenv("PBSYNC_FUZZ_FIXPOINT") != NULL &&
	    (md2html_normalize(buf_str(&h1), h1.len, &h2) == -1 ||
	    h1.len != h2.len || memcmp(buf_str(&h1), buf_str(&h2), h1.len) != 0)) {
		fprintf(stderr, "md:\n%s\nh1:\n%s\n", buf_str(&md), buf_str(&h1));
		fuzz_conv_fail("not a fixed point, h2", &h2);
	}
	buf_release(&md);
	buf_release(&h1);
	buf_release(&h2);
}

#endif
