/*
 * golden.h: golden-file checks for the converters.  For every
 * $srcdir/tests/data/DIR/NAME.IN, the converter's output must equal
 * NAME.OUT byte for byte; a mismatch prints both.
 */
#ifndef PBSYNC_GOLDEN_H
#define PBSYNC_GOLDEN_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "t.h"

/* Reads a whole file into a heap string (len in *n), or NULL. */
static inline char *
golden_read(const char *path, size_t *n)
{
	FILE	*f = fopen(path, "rb");
	char	*s = NULL;
	long	 len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)len + 1)) != NULL) {
		*n = fread(s, 1, (size_t)len, f);
		s[*n] = '\0';
	}
	fclose(f);
	return s;
}

static inline int
golden_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs conv over every *.in in dir; returns the number of files. */
static inline int
golden_dir(const char *dir, const char *in, const char *out,
    int (*conv)(const char *, size_t, struct buf *))
{
	char		 path[1024], *names[512], *src, *want;
	const char	*srcdir = getenv("srcdir");
	struct dirent	*e;
	DIR		*d;
	size_t		 n = 0, i, len, wlen;
	struct buf	 b;

	snprintf(path, sizeof(path), "%s/tests/data/%s", srcdir ? srcdir :
	    ".", dir);
	if ((d = opendir(path)) == NULL) {
		CHECK(!"golden directory missing");
		return 0;
	}
	while ((e = readdir(d)) != NULL && n < 512) {
		len = strlen(e->d_name);
		if (len > strlen(in) && strcmp(e->d_name + len - strlen(in),
		    in) == 0)
			names[n++] = strndup(e->d_name, len - strlen(in));
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), golden_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/tests/data/%s/%s%s", srcdir ?
		    srcdir : ".", dir, names[i], in);
		src = golden_read(path, &len);
		snprintf(path, sizeof(path), "%s/tests/data/%s/%s%s", srcdir ?
		    srcdir : ".", dir, names[i], out);
		want = golden_read(path, &wlen);
		buf_init(&b, 8u << 20);
		if (src == NULL || want == NULL || conv(src, len, &b) == -1)
			t_check(0, names[i], __FILE__, __LINE__);
		else if (!t_check(b.len == wlen && memcmp(buf_str(&b), want,
		    wlen) == 0, names[i], __FILE__, __LINE__))
			printf("# got:\n%s\n# expected:\n%s\n", buf_str(&b), want);
		buf_release(&b);
		free(src);
		free(want);
		free(names[i]);
	}
	return (int)n;
}

#endif
