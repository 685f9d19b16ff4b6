/*
 * prom: the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), and the
 * counts a process keeps until it hands them on.
 *
 * Writing: "# HELP name text" and "# TYPE name type" lines, then samples
 * "name{label="value",...} value", one metric's lines as one group.  Label
 * values escape backslash, double quote and line feed (\\, \", \n); HELP
 * text escapes backslash and line feed.  Metric names match
 * [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*.
 *
 * Counting: prom_add adds to a sample (a name and a rendered label set)
 * of this process's table; prom_take hands every pending amount over and
 * removes it, so a caller can add it to shared counters in one batch and
 * give it back (prom_add) if that fails.  The table is fixed in size: the
 * label values of a caller must come from a bounded set.  The table has a
 * lock: another thread may take while requests add.
 */
#ifndef PBSYNC_PROM_H
#define PBSYNC_PROM_H

#include <stddef.h>

#include "base/buf.h"

#define PROM_NAME_MAX	64	/* a sample's name, with its suffix */
#define PROM_LABELS_MAX	192	/* a rendered label set */
#define PROM_SERIES_MAX	512	/* samples a process counts between takes */

struct prom_delta {
	char		 name[PROM_NAME_MAX];
	char		 labels[PROM_LABELS_MAX];
	double		 v;
	unsigned	 hash;		/* of name and labels: finds it fast */
};

/* 1 if s is a valid metric name, or (label) a valid label name. */
int	 prom_name_ok(const char *s);
int	 prom_label_name_ok(const char *s);
/*
 * Renders n label pairs as name="value" joined by commas, values escaped,
 * into out: 0, or -1 when a name is invalid or out is too small.
 */
int	 prom_labels(char *out, size_t len, const char *const *names,
	    const char *const *values, size_t n);
/* Appends v escaped as a label value (\\, \", \n): 0 or -1. */
int	 prom_escape_label(struct buf *, const char *v);
/* Appends "# HELP" (escaped) and "# TYPE" lines: 0 or -1. */
int	 prom_head(struct buf *, const char *name, const char *type,
	    const char *help);
/*
 * Appends "name{labels,extra} value": labels and extra are rendered label
 * sets (either may be NULL or ""): 0 or -1.
 */
int	 prom_sample(struct buf *, const char *name, const char *labels,
	    const char *extra, double v);
/* A value as the format spells it: "42", "0.25", "+Inf", "-Inf", "NaN". */
void	 prom_value(char *out, size_t len, double v);

/* Adds v to the sample name{labels} of this process: 0, or -1 (full). */
int	 prom_add(const char *name, const char *labels, double v);
/* How many samples have an amount pending. */
size_t	 prom_pending(void);
/*
 * Moves at most max pending amounts into out, oldest first, and removes
 * them from the table: the number moved.
 */
size_t	 prom_take(struct prom_delta *out, size_t max);

#endif
