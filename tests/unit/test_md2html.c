#include "config.h"

#include <string.h>

#include "golden.h"
#include "html2md.h"
#include "md2html.h"

/*
 * The sync engine compares descriptions across the two formats, so one
 * round trip must reach a fixed point: html → md → html → md gives the
 * same md, and the html after one trip equals the html after two.
 */
static int
roundtrip(const char *html, size_t len, struct buf *out)
{
	struct buf	 md1, h1, md2, h2;
	int		 ok;

	buf_init(&md1, 8u << 20);
	buf_init(&h1, 8u << 20);
	buf_init(&md2, 8u << 20);
	buf_init(&h2, 8u << 20);
	ok = html2md_convert(html, len, &md1) == 0 &&
	    md2html_convert(md1.data ? md1.data : "", md1.len, &h1) == 0 &&
	    html2md_convert(h1.data ? h1.data : "", h1.len, &md2) == 0 &&
	    md2html_convert(md2.data ? md2.data : "", md2.len, &h2) == 0 &&
	    md1.len == md2.len && memcmp(buf_str(&md1), buf_str(&md2),
	    md1.len) == 0 && h1.len == h2.len && memcmp(buf_str(&h1),
	    buf_str(&h2), h1.len) == 0;
	if (!ok)
		printf("# md1:\n%s\n# md2:\n%s\n# h1: %s\n# h2: %s\n",
		    buf_str(&md1), buf_str(&md2), buf_str(&h1), buf_str(&h2));
	/* The golden "output" of a round trip is the input itself. */
	if (ok)
		buf_append(out, html, len);
	buf_release(&md1);
	buf_release(&h1);
	buf_release(&md2);
	buf_release(&h2);
	return ok ? 0 : -1;
}

int
main(void)
{
	struct buf	 b;
	const char	*evil = "[x](javascript:alert(1)) <script>x</script>";

	buf_init(&b, 4096);
	CHECK_INT(md2html_convert(evil, strlen(evil), &b), 0);
	CHECK(strstr(buf_str(&b), "javascript") == NULL);
	CHECK(strstr(buf_str(&b), "<script") == NULL);
	buf_release(&b);
	buf_init(&b, 4096);
	CHECK_INT(md2html_convert("\xff\xfe bad utf8", 12, &b), 0);
	buf_release(&b);
	CHECK(golden_dir("md2html", ".md", ".html", md2html_convert) >= 20);
	CHECK(golden_dir("roundtrip", ".html", ".html", roundtrip) >= 20);
	CHECK(golden_dir("html2md", ".html", ".html", roundtrip) >= 25);
	return t_done();
}
