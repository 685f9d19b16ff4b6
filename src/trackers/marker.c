#include "config.h"

#include <stdio.h>
#include <string.h>

#include "convert/html2md.h"
#include "trackers/marker.h"

#define RULE		"\n\n---\n\n"
#define LEAD		"Linked to the Productboard feature "
#define COMMENT		"<!-- pbsync:feature="

void
marker_name(const char *feature_id, char *out, size_t len)
{
	snprintf(out, len, "pbsync:feature=%s", feature_id);
}

/*
 * Appends s as Markdown link text: brackets and backslashes escaped, and
 * mentions and references broken as in descriptions (an escape alone does
 * not stop every tracker from acting on them).
 */
static int
put_link_text(struct buf *b, const char *s)
{
	int	 prev = 0, prev2 = 0;

	for (; *s != '\0'; prev2 = prev, prev = (unsigned char)*s++) {
		if (*s == '\n' || *s == '\r') {
			if (buf_putc(b, ' ') == -1)
				return -1;
			continue;
		}
		if (html2md_ref_break(prev2, prev, (unsigned char)*s) &&
		    buf_puts(b, HTML2MD_WJ) == -1)
			return -1;
		if (strchr("\\[]*_`<>#@~|!", *s) != NULL && buf_putc(b, '\\') == -1)
			return -1;
		if (buf_putc(b, *s) == -1)
			return -1;
	}
	return 0;
}

int
marker_append(struct buf *md, const char *fid, const char *name,
    const char *url)
{
	int	 rc = 0;

	while (md->len > 0 && md->data[md->len - 1] == '\n')
		md->data[--md->len] = '\0';
	rc |= buf_puts(md, md->len > 0 ? RULE LEAD "[" : LEAD "[");
	rc |= put_link_text(md, name);
	/* The URL goes in <> so spaces or parentheses cannot break it. */
	rc |= buf_printf(md, "](<%s>).\n" COMMENT "%s -->\n",
	    url != NULL && *url != '\0' && strpbrk(url, "<>\n") == NULL ?
	    url : "https://app.productboard.com", fid);
	return rc ? -1 : 0;
}

/* Length of s[0..n) without trailing blank space. */
static size_t
rtrim(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' ||
	    s[n - 1] == '\r'))
		n--;
	return n;
}

size_t
marker_strip_len(const char *md)
{
	const char	*c, *lead = NULL, *p;
	size_t		 n;

	if ((c = strstr(md, COMMENT)) == NULL)
		return strlen(md);
	/* The footer starts at the last LEAD before the comment. */
	for (p = md; (p = strstr(p, LEAD)) != NULL && p < c; p++)
		lead = p;
	n = rtrim(md, (size_t)((lead != NULL ? lead : c) - md));
	if (n >= 3 && strncmp(md + n - 3, "---", 3) == 0 &&
	    (n == 3 || md[n - 4] == '\n'))
		n = rtrim(md, n - 3);
	return n;
}

int
marker_strip(const char *md, size_t len, struct buf *out)
{
	size_t	 n = marker_strip_len(md);

	if (n > len)
		n = len;
	return buf_append(out, md, n) == -1 ? -1 : n < len;
}
