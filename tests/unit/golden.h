/*
 * golden.h: golden files for the converter tests (test_html2md,
 * test_md2html).  Data lives in $srcdir/tests/data/DIR (srcdir is set by
 * automake's test driver; "." by default).  A mismatch prints a
 * unified-diff-like hint as TAP comments.
 */
#ifndef PBSYNC_GOLDEN_H
#define PBSYNC_GOLDEN_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

#define GOLDEN_MAX_FILES	1024
#define GOLDEN_MAX_LINES	400	/* beyond, no line diff */

/* Reads a whole file into a NUL-terminated heap string, or NULL. */
static inline char *
golden_read(const char *path, size_t *len)
{
	FILE	*f;
	char	*s = NULL, *t;
	size_t	 cap = 0, n;

	*len = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	do {
		if ((t = realloc(s, cap + 4097)) == NULL) {
			free(s);
			fclose(f);
			return NULL;
		}
		s = t;
		n = fread(s + *len, 1, 4096, f);
		*len += n;
		cap += 4096;
	} while (n == 4096);
	s[*len] = '\0';
	fclose(f);
	return s;
}

/* The path of $srcdir/tests/data/sub/name (name may be ""). */
static inline const char *
golden_path(char *buf, size_t size, const char *sub, const char *name)
{
	const char	*srcdir = getenv("srcdir");

	snprintf(buf, size, "%s/tests/data/%s/%s", srcdir != NULL ? srcdir :
	    ".", sub, name);
	return buf;
}

/* Reads tests/data/sub/name + suffix, or NULL. */
static inline char *
golden_load(const char *sub, const char *name, const char *suffix,
    size_t *len)
{
	char	 path[1024], file[512];

	snprintf(file, sizeof(file), "%s%s", name, suffix);
	return golden_read(golden_path(path, sizeof(path), sub, file), len);
}

static inline int
golden_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The names of the files in tests/data/sub ending in suffix, suffix cut
 * off, sorted; NULL-terminated, freed with golden_free().
 */
static inline char **
golden_list(const char *sub, const char *suffix, size_t *n)
{
	char		 path[1024], **v;
	struct dirent	*e;
	DIR		*d;
	size_t		 len, sl = strlen(suffix);

	*n = 0;
	if ((v = calloc(GOLDEN_MAX_FILES + 1, sizeof(*v))) == NULL ||
	    (d = opendir(golden_path(path, sizeof(path), sub, ""))) == NULL)
		return v;
	while ((e = readdir(d)) != NULL && *n < GOLDEN_MAX_FILES) {
		len = strlen(e->d_name);
		if (len > sl && strcmp(e->d_name + len - sl, suffix) == 0)
			v[(*n)++] = strndup(e->d_name, len - sl);
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), golden_cmp);
	return v;
}

static inline void
golden_free(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Splits s into at most max lines (pointers and lengths). */
static inline size_t
golden_lines(const char *s, size_t len, const char **l, size_t *ll,
    size_t max)
{
	const char	*e = s + len, *nl;
	size_t		 n = 0;

	while (s < e && n < max) {
		nl = memchr(s, '\n', (size_t)(e - s));
		l[n] = s;
		ll[n++] = (size_t)((nl != NULL ? nl : e) - s);
		s = nl != NULL ? nl + 1 : e;
	}
	return s < e ? max + 1 : n;
}

/*
 * Prints the differences between want and got as "# -" and "# +" lines
 * with two lines of context, from a longest common subsequence.
 */
static inline void
golden_diff(const char *want, size_t wlen, const char *got, size_t glen)
{
	static const char *a[GOLDEN_MAX_LINES], *b[GOLDEN_MAX_LINES];
	static size_t	 al[GOLDEN_MAX_LINES], bl[GOLDEN_MAX_LINES];
	static unsigned short lcs[GOLDEN_MAX_LINES + 1][GOLDEN_MAX_LINES + 1];
	static struct {
		char		 op;
		const char	*s;
		size_t		 len;
	} ed[2 * GOLDEN_MAX_LINES];
	static char	 show[2 * GOLDEN_MAX_LINES];
	size_t		 n, m, i, j, k = 0, e;
	int		 same;

	n = golden_lines(want, wlen, a, al, GOLDEN_MAX_LINES);
	m = golden_lines(got, glen, b, bl, GOLDEN_MAX_LINES);
	if (n > GOLDEN_MAX_LINES || m > GOLDEN_MAX_LINES) {
		printf("# (too long to diff)\n");
		return;
	}
	for (i = n + 1; i-- > 0;)
		for (j = m + 1; j-- > 0;)
			lcs[i][j] = i == n || j == m ? 0 : al[i] == bl[j] &&
			    memcmp(a[i], b[j], al[i]) == 0 ? lcs[i + 1][j + 1] + 1 :
			    lcs[i + 1][j] > lcs[i][j + 1] ? lcs[i + 1][j] :
			    lcs[i][j + 1];
	for (i = j = 0; i < n || j < m; k++) {
		same = i < n && j < m && al[i] == bl[j] &&
		    memcmp(a[i], b[j], al[i]) == 0;
		if (same) {
			ed[k].op = ' ', ed[k].s = a[i], ed[k].len = al[i];
			i++, j++;
		} else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
			ed[k].op = '+', ed[k].s = b[j], ed[k].len = bl[j];
			j++;
		} else {
			ed[k].op = '-', ed[k].s = a[i], ed[k].len = al[i];
			i++;
		}
	}
	memset(show, 0, k);
	for (e = 0; e < k; e++)
		if (ed[e].op != ' ')
			for (i = e > 2 ? e - 2 : 0; i < k && i <= e + 2; i++)
				show[i] = 1;
	printf("# --- expected\n# +++ got\n");
	for (e = 0; e < k; e++) {
		if (show[e])
			printf("# %c%.*s\n", ed[e].op, (int)ed[e].len, ed[e].s);
		else if (e > 0 && show[e - 1])
			printf("# @@\n");
	}
	if (wlen > 0 && glen > 0 && (want[wlen - 1] == '\n') !=
	    (got[glen - 1] == '\n'))
		printf("# (the final newline differs)\n");
}

/* One TAP check that got equals want, with a diff hint if not. */
static inline int
golden_check(const char *what, const char *got, size_t glen,
    const char *want, size_t wlen)
{
	int	 ok = got != NULL && want != NULL && glen == wlen &&
		    memcmp(got, want, glen) == 0;

	t_check(ok, what, __FILE__, __LINE__);
	if (!ok && got != NULL && want != NULL)
		golden_diff(want, wlen, got, glen);
	return ok;
}

#endif
