/*
 * spec_trip: the round trips of tests/spec/test_spec.py, for many
 * documents in one process.  Reads records "D LEN\n" + LEN bytes of
 * Markdown from stdin, D the dialect ('l' GitLab: md2html_convert, 'h'
 * GitHub: md2html_convert_breaks; html2md is the same for both), and
 * writes for each six fields "LEN\n" + LEN bytes: h1 = to_html(md),
 * md1 = html2md(h1), h2 = to_html(md1), md2 = html2md(h2),
 * h3 = to_html(md2), and why h1 or h2 is not Productboard's kind of HTML
 * (tests/unit/conv_check.h), empty when both are.  Exits 1 on a failed
 * conversion or a malformed record.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/conv_check.h"
#include "base/buf.h"
#include "convert/html2md.h"
#include "convert/md2html.h"

#define MAX	(1u << 22)

static void
field(const char *s, size_t n)
{
	printf("%zu\n", n);
	fwrite(s, 1, n, stdout);
}

/* One record; 0, or -1 when a converter fails. */
static int
trip(int github, const char *md, size_t len)
{
	int		(*to_html)(const char *, size_t, struct buf *) =
			    github ? md2html_convert_breaks : md2html_convert;
	struct buf	 b[5];
	char		 why[128] = "";
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < 5; i++)
		buf_init(&b[i], MAX);
	if (to_html(md, len, &b[0]) == -1 ||
	    html2md_convert(buf_str(&b[0]), b[0].len, &b[1]) == -1 ||
	    to_html(buf_str(&b[1]), b[1].len, &b[2]) == -1 ||
	    html2md_convert(buf_str(&b[2]), b[2].len, &b[3]) == -1 ||
	    to_html(buf_str(&b[3]), b[3].len, &b[4]) == -1)
		rc = -1;
	else if (conv_html_ok(buf_str(&b[0]), b[0].len, why, sizeof(why)))
		conv_html_ok(buf_str(&b[2]), b[2].len, why, sizeof(why));
	for (i = 0; i < 5; i++) {
		field(buf_str(&b[i]), b[i].len);
		buf_release(&b[i]);
	}
	field(why, strlen(why));
	return rc;
}

int
main(void)
{
	char		*md;
	size_t		 len;
	int		 d;

	while ((d = getchar()) != EOF) {
		if ((d != 'l' && d != 'h') || scanf(" %zu", &len) != 1 ||
		    getchar() != '\n' || len > MAX ||
		    (md = malloc(len + 1)) == NULL)
			return 1;
		if (fread(md, 1, len, stdin) != len || trip(d == 'h', md,
		    len) == -1) {
			free(md);
			return 1;
		}
		free(md);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
