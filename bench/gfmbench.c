/*
 * gfmbench: one Markdown renderer, measured for bench/gfm.py: pbsync's
 * md2html (libcmark with mdext.c and mdtable.c), or, built with
 * -DGFMBENCH_CMARK_GFM, Debian's libcmark-gfm with its GFM extensions
 * (table, strikethrough, autolink, tagfilter, tasklist).  The two cannot
 * share a process: both libraries export the same cmark_ symbols.
 *
 *   gfmbench spec
 *	Reads records "LEN EXTS\n" + LEN bytes of Markdown from stdin and
 *	writes the HTML of each as "LEN\n" + LEN bytes.  EXTS names the
 *	libcmark-gfm extensions to use, as "table,autolink" or "-" for none,
 *	as the spec's own runs do; pbsync's md2html has its own always.
 *   gfmbench time FILE...
 *	Renders each file (with all five extensions) and prints a line
 *	"FILE BYTES MS OUT": its size, the fastest of three runs in
 *	milliseconds, and the size of the HTML (-1 when the renderer
 *	refused it).
 *   gfmbench md FILE
 *	(pbsync's build only) Writes html2md of the HTML in FILE, the
 *	Markdown pbsync would write to a tracker.
 *
 * Not part of pbsync: bench/gfm.py builds it when libcmark-gfm is there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef GFMBENCH_CMARK_GFM
#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#else
#include "config.h"

#include "base/buf.h"
#include "convert/html2md.h"
#include "convert/md2html.h"
#endif

#define MAX_IN	(64u << 20)
#define RUNS	3

#define ALL_EXT	"table,strikethrough,autolink,tagfilter,tasklist"

#ifdef GFMBENCH_CMARK_GFM
/*
 * The HTML of md with the extensions exts names (comma-separated) as
 * heap memory in *out; its length, or -1.
 */
static long
render(const char *md, size_t len, const char *exts, char **out)
{
	int		 opts = CMARK_OPT_UNSAFE | CMARK_OPT_VALIDATE_UTF8;
	cmark_parser	*p;
	cmark_node	*doc;
	cmark_syntax_extension *e;
	char		 name[32];
	size_t		 n;

	cmark_gfm_core_extensions_ensure_registered();
	if ((p = cmark_parser_new(opts)) == NULL)
		return -1;
	for (; *exts != '\0'; exts += n + (exts[n] == ',')) {
		n = strcspn(exts, ",");
		snprintf(name, sizeof(name), "%.*s", (int)n, exts);
		if ((e = cmark_find_syntax_extension(name)) != NULL)
			cmark_parser_attach_syntax_extension(p, e);
	}
	cmark_parser_feed(p, md, len);
	doc = cmark_parser_finish(p);
	*out = doc == NULL ? NULL : cmark_render_html(doc, opts,
	    cmark_parser_get_syntax_extensions(p));
	if (doc != NULL)
		cmark_node_free(doc);
	cmark_parser_free(p);
	return *out == NULL ? -1 : (long)strlen(*out);
}
#else
/* The output cap of the sync (flows/sync.c). */
#define MAX_OUT	(8u << 20)

static long
render(const char *md, size_t len, const char *exts, char **out)
{
	struct buf	 b;
	long		 n;

	(void)exts;			/* md2html has them all, always */
	buf_init(&b, MAX_OUT);
	if (md2html_convert(md, len, &b) == -1) {
		buf_release(&b);
		*out = NULL;
		return -1;
	}
	n = (long)b.len;
	*out = buf_detach(&b);
	return n;
}
#endif

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads all of f into a heap buffer; NULL past MAX_IN. */
static char *
slurp(FILE *f, size_t *len)
{
	char	*s = malloc(MAX_IN);

	if (s == NULL)
		return NULL;
	*len = fread(s, 1, MAX_IN, f);
	if (*len == MAX_IN) {
		free(s);
		return NULL;
	}
	return s;
}

static int
spec(void)
{
	char	*md, *html, exts[256];
	size_t	 len;
	long	 n;

	while (scanf("%zu %255s", &len, exts) == 2 && getchar() == '\n') {
		if (len > MAX_IN || (md = malloc(len + 1)) == NULL ||
		    fread(md, 1, len, stdin) != len)
			return 1;
		n = render(md, len, exts, &html);
		printf("%ld\n", n < 0 ? 0 : n);
		if (n > 0)
			fwrite(html, 1, (size_t)n, stdout);
		free(html);
		free(md);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
timing(int argc, char **argv)
{
	FILE	*f;
	char	*md, *html;
	size_t	 len;
	double	 t, best;
	long	 n = -1;
	int	 i, r;

	for (i = 0; i < argc; i++) {
		if ((f = fopen(argv[i], "rb")) == NULL ||
		    (md = slurp(f, &len)) == NULL) {
			fprintf(stderr, "gfmbench: cannot read %s\n", argv[i]);
			return 1;
		}
		fclose(f);
		for (r = 0, best = -1; r < RUNS; r++) {
			t = now_ms();
			n = render(md, len, ALL_EXT, &html);
			t = now_ms() - t;
			free(html);
			if (best < 0 || t < best)
				best = t;
		}
		printf("%s %zu %.2f %ld\n", argv[i], len, best, n);
		fflush(stdout);
		free(md);
	}
	return 0;
}

#ifndef GFMBENCH_CMARK_GFM
static int
to_md(const char *path)
{
	FILE		*f;
	char		*html;
	size_t		 len;
	struct buf	 b;
	int		 rc = 1;

	if ((f = fopen(path, "rb")) == NULL || (html = slurp(f, &len)) == NULL)
		return 1;
	fclose(f);
	buf_init(&b, MAX_IN);
	if (html2md_convert(html, len, &b) == 0 &&
	    fwrite(buf_str(&b), 1, b.len, stdout) == b.len)
		rc = 0;
	buf_release(&b);
	free(html);
	return rc;
}
#endif

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "spec") == 0)
		return spec();
	if (argc > 2 && strcmp(argv[1], "time") == 0)
		return timing(argc - 2, argv + 2);
#ifndef GFMBENCH_CMARK_GFM
	if (argc == 3 && strcmp(argv[1], "md") == 0)
		return to_md(argv[2]);
#endif
	fprintf(stderr, "usage: gfmbench spec | time FILE... | md FILE\n");
	return 2;
}
