/*
 * json: typed, bounded access to JSON over cJSON.
 *
 * json_parse refuses bodies nested deeper than a fixed depth before cJSON
 * sees them, and parses exactly the given bytes.  Getters take a dotted
 * path ("data.feature.id") and check the type and, for strings, the
 * length and the absence of control characters; a NULL or -1 answer means
 * "missing or wrong", which callers turn into a 400 and a log line.
 */
#ifndef PBSYNC_JSON_H
#define PBSYNC_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define JSON_MAX_DEPTH	32

/* Parses len bytes; NULL when malformed or too deep.  cJSON_Delete frees. */
cJSON		*json_parse(const char *, size_t);
const cJSON	*json_get(const cJSON *, const char *path);
/* String of 1..maxlen bytes without control characters, or NULL. */
const char	*json_str(const cJSON *, const char *path, size_t maxlen);
/* Like json_str but a JSON null or absence gives "" (len 0 allowed). */
const char	*json_str_or_empty(const cJSON *, const char *path,
		    size_t maxlen);
/* Integer in [min, max]: 0 or -1. */
int		 json_int(const cJSON *, const char *path, long long min,
		    long long max, long long *);
int		 json_bool(const cJSON *, const char *path, int *);
/* Renders compactly into a heap string, or NULL. */
char		*json_print(const cJSON *);

#endif
