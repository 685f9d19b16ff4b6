#include "config.h"

#include <string.h>

#include "golden.h"
#include "html2md.h"

/* Inline cases: one line of HTML, its exact Markdown. */
static const struct {
	const char	*html, *md;
	size_t		 len;		/* 0: strlen(html) */
} cases[] = {
	{ "<p>a @b c</p>", "a `@b` c\n", 0 },
	{ "<p>mail me: x@y.com</p>", "mail me: x@y.com\n", 0 },
	{ "<p>#12.</p>", "`#12`.\n", 0 },
	{ "<p>1) x</p>", "1\\) x\n", 0 },
	{ "<b>unclosed", "**unclosed**\n", 0 },
	{ "<p>a\0" "b</p>", "ab\n", 10 },		/* NUL dropped */
	{ "", "", 0 },
	{ "<p><a href=\"https://x\"></a></p>", "[https://x](https://x)\n", 0 },
};

int
main(void)
{
	struct buf	 b;
	size_t		 i;
	char		 big[70000];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, 4096);
		CHECK_INT(html2md_convert(cases[i].html, cases[i].len ?
		    cases[i].len : strlen(cases[i].html), &b), 0);
		CHECK_STR(buf_str(&b), cases[i].md);
		buf_release(&b);
	}
	/* The output cap is honoured. */
	memset(big, 'x', sizeof(big));
	buf_init(&b, 1000);
	CHECK_INT(html2md_convert(big, sizeof(big), &b), -1);
	buf_release(&b);
	CHECK(html2md_is_reference("@alice", 6));
	CHECK(!html2md_is_reference("@", 1));
	CHECK(!html2md_is_reference("a@b", 3));
	CHECK(golden_dir("html2md", ".html", ".md", html2md_convert) >= 25);
	return t_done();
}
