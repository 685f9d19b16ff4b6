#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prom.h"

/* The table, and its lock: a thread may hand the counts on meanwhile. */
static struct prom_delta table[PROM_SERIES_MAX];
static size_t		 used;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;

static int
name_char(char c, int first, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

static int
valid(const char *s, int colon)
{
	const char	*p;

	if (s == NULL || *s == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!name_char(*p, p == s, colon))
			return 0;
	return 1;
}

int
prom_name_ok(const char *s)
{
	return valid(s, 1);
}

int
prom_label_name_ok(const char *s)
{
	/* Names starting with "__" are reserved for Prometheus itself. */
	return valid(s, 0) && strncmp(s, "__", 2) != 0;
}

/* Appends v with the escapes of quoted (label) or HELP text. */
static int
escape(struct buf *b, const char *v, int quoted)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' ? buf_puts(b, "\\\\") :
		    *v == '\n' ? buf_puts(b, "\\n") :
		    *v == '"' && quoted ? buf_puts(b, "\\\"") :
		    buf_putc(b, *v))
			return -1;
	}
	return 0;
}

int
prom_escape_label(struct buf *b, const char *v)
{
	return escape(b, v, 1);
}

/* Appends c to out at *o, within len (room kept for the NUL): 0 or -1. */
static int
put(char *out, size_t len, size_t *o, char c)
{
	if (*o + 1 >= len)
		return -1;
	out[(*o)++] = c;
	return 0;
}

/*
 * Counted on every request: written straight into out, no allocation.
 */
int
prom_labels(char *out, size_t len, const char *const *names,
    const char *const *values, size_t n)
{
	const char	*p;
	size_t		 i, o = 0;
	int		 rc = 0;

	if (len == 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (!prom_label_name_ok(names[i]) || values[i] == NULL) {
			rc = -1;
			break;
		}
		if (i > 0)
			rc |= put(out, len, &o, ',');
		for (p = names[i]; *p != '\0'; p++)
			rc |= put(out, len, &o, *p);
		rc |= put(out, len, &o, '=') | put(out, len, &o, '"');
		for (p = values[i]; *p != '\0' && rc == 0; p++) {
			if (*p == '\\' || *p == '"' || *p == '\n')
				rc |= put(out, len, &o, '\\');
			rc |= put(out, len, &o, *p == '\n' ? 'n' : *p);
		}
		rc |= put(out, len, &o, '"');
	}
	out[rc == 0 ? o : 0] = '\0';
	return rc ? -1 : 0;
}

int
prom_head(struct buf *b, const char *name, const char *type,
    const char *help)
{
	if (!prom_name_ok(name))
		return -1;
	return buf_printf(b, "# HELP %s ", name) | escape(b, help, 0) |
	    buf_printf(b, "\n# TYPE %s %s\n", name, type) ? -1 : 0;
}

void
prom_value(char *out, size_t len, double v)
{
	if (isnan(v))
		snprintf(out, len, "NaN");
	else if (isinf(v))
		snprintf(out, len, "%cInf", v > 0 ? '+' : '-');
	else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		snprintf(out, len, "%.0f", v);
	else {
		/* The shortest form that reads back as the same double. */
		snprintf(out, len, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, len, "%.17g", v);
	}
}

int
prom_sample(struct buf *b, const char *name, const char *labels,
    const char *extra, double v)
{
	char	 val[40];
	int	 l = labels != NULL && *labels != '\0';
	int	 e = extra != NULL && *extra != '\0';

	if (!prom_name_ok(name))
		return -1;
	prom_value(val, sizeof(val), v);
	return buf_printf(b, "%s%s%s%s%s%s %s\n", name, l || e ? "{" : "",
	    l ? labels : "", l && e ? "," : "", e ? extra : "",
	    l || e ? "}" : "", val);
}

/* FNV-1a over name, a NUL and labels. */
static unsigned
hash(const char *name, const char *labels)
{
	unsigned	 h = 2166136261u;
	const char	*p;

	for (p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h *= 16777619u;
	for (p = labels; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

/* On every request: one hash, then a string compare only on a match. */
int
prom_add(const char *name, const char *labels, double v)
{
	unsigned	 h;
	size_t		 i, nl, ll;
	int		 rc = 0;

	if (labels == NULL)
		labels = "";
	h = hash(name, labels);
	nl = strlen(name);
	ll = strlen(labels);
	pthread_mutex_lock(&lock);
	for (i = 0; i < used; i++)
		if (table[i].hash == h && strcmp(table[i].name, name) == 0 &&
		    strcmp(table[i].labels, labels) == 0) {
			table[i].v += v;
			goto out;
		}
	if (used == PROM_SERIES_MAX || nl >= PROM_NAME_MAX ||
	    ll >= PROM_LABELS_MAX) {
		rc = -1;
		goto out;
	}
	memcpy(table[used].name, name, nl + 1);
	memcpy(table[used].labels, labels, ll + 1);
	table[used].hash = h;
	table[used++].v = v;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

size_t
prom_pending(void)
{
	size_t	 n;

	pthread_mutex_lock(&lock);
	n = used;
	pthread_mutex_unlock(&lock);
	return n;
}

size_t
prom_take(struct prom_delta *out, size_t max)
{
	size_t	 n;

	pthread_mutex_lock(&lock);
	n = used < max ? used : max;
	memcpy(out, table, n * sizeof(*table));
	memmove(table, table + n, (used - n) * sizeof(*table));
	used -= n;
	pthread_mutex_unlock(&lock);
	return n;
}
