/*
 * adf_check.h: the structural rules of the Atlassian Document Format that
 * adf_from_html() promises, checked by test_adf and fuzz_adf.
 *
 * From Atlassian's node and mark reference
 * (https://developer.atlassian.com/cloud/jira/platform/apis/document/
 * structure/, .../nodes/<name>/, .../marks/<name>/) and the JSON schema
 * it links (@atlaskit/adf-schema json-schema/v1/full.json), narrowed to
 * what pbsync may write:
 *
 *  - the root is {"version":1,"type":"doc","content":[...]};
 *  - each node's children are of the kinds its parent takes (table
 *    below): blockquote holds paragraph, lists and codeBlock; listItem
 *    starts with a paragraph or codeBlock and then holds those and
 *    lists; tables only at the top, cells hold all blocks but tables;
 *    lists, blockquote, rows and cells are never empty;
 *  - heading has attrs.level 1..6, orderedList an attrs.order >= 0 if
 *    any, taskList and taskItem a localId (unique) and taskItem a state
 *    TODO or DONE;
 *  - text nodes are not empty; marks only on text, each kind once, of
 *    strong, em, underline, strike, code, link; code only with link;
 *    none in codeBlock; link has attrs.href, and pbsync's links go only
 *    where html_href_ok() lets them;
 *  - no mention, emoji, status, date, inlineCard or media node: pbsync
 *    never makes one from Productboard's text.
 *
 * adf_ok() answers 1, or 0 with the first broken rule in why.
 */
#ifndef PBSYNC_ADF_CHECK_H
#define PBSYNC_ADF_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "convert/html.h"

#define ADF_CHECK_DEPTH	200

/* Which nodes each parent takes; "" ends a list. */
static const struct {
	const char	*parent;
	const char	*kids[12];
} adf_check_rules[] = {
	{ "doc", { "paragraph", "heading", "bulletList", "orderedList",
	    "taskList", "codeBlock", "blockquote", "rule", "table", "" } },
	{ "blockquote", { "paragraph", "bulletList", "orderedList",
	    "codeBlock", "" } },
	{ "bulletList", { "listItem", "" } },
	{ "orderedList", { "listItem", "" } },
	{ "listItem", { "paragraph", "bulletList", "orderedList",
	    "codeBlock", "" } },
	{ "taskList", { "taskItem", "taskList", "" } },
	{ "table", { "tableRow", "" } },
	{ "tableRow", { "tableHeader", "tableCell", "" } },
	{ "tableHeader", { "paragraph", "heading", "bulletList",
	    "orderedList", "taskList", "codeBlock", "blockquote", "rule",
	    "" } },
	{ "tableCell", { "paragraph", "heading", "bulletList", "orderedList",
	    "taskList", "codeBlock", "blockquote", "rule", "" } },
	{ "paragraph", { "text", "hardBreak", "" } },
	{ "heading", { "text", "hardBreak", "" } },
	{ "taskItem", { "text", "hardBreak", "" } },
	{ "codeBlock", { "text", "" } },
	{ "rule", { "" } },
	{ "hardBreak", { "" } },
	{ "text", { "" } },
};

struct adf_check {
	char		*why;
	size_t		 wl;
	const char	**ids;		/* localIds seen */
	size_t		 nids, capids;
};

static inline int
adf_check_fail(struct adf_check *ck, const char *what, const char *type)
{
	snprintf(ck->why, ck->wl, "%s (%s)", what, type);
	return 0;
}

static inline const char *
adf_check_type(const cJSON *n)
{
	const char *t = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(n, "type"));

	return t != NULL ? t : "";
}

/* The rule row of type, or -1 for a node pbsync must not write. */
static inline int
adf_check_row(const char *type)
{
	size_t	 i;

	for (i = 0; i < sizeof(adf_check_rules) / sizeof(adf_check_rules[0]);
	    i++)
		if (strcmp(adf_check_rules[i].parent, type) == 0)
			return (int)i;
	return -1;
}

static inline int
adf_check_takes(int row, const char *kid)
{
	size_t	 i;

	for (i = 0; adf_check_rules[row].kids[i][0] != '\0'; i++)
		if (strcmp(adf_check_rules[row].kids[i], kid) == 0)
			return 1;
	return 0;
}

/* The marks of a text node (in_code: inside a codeBlock). */
static inline int
adf_check_marks(struct adf_check *ck, const cJSON *t, int in_code)
{
	static const char *const kinds[] = { "strong", "em", "underline",
	    "strike", "code", "link" };
	const cJSON	*marks, *m;
	const char	*href;
	unsigned	 seen = 0, bit;
	size_t		 i;

	if ((marks = cJSON_GetObjectItemCaseSensitive(t, "marks")) == NULL)
		return 1;
	if (!cJSON_IsArray(marks))
		return adf_check_fail(ck, "marks not an array", "text");
	if (in_code && marks->child != NULL)
		return adf_check_fail(ck, "marks in a codeBlock", "text");
	cJSON_ArrayForEach(m, marks) {
		for (i = 0; i < 6; i++)
			if (strcmp(adf_check_type(m), kinds[i]) == 0)
				break;
		if (i == 6)
			return adf_check_fail(ck, "unknown mark",
			    adf_check_type(m));
		bit = 1u << i;
		if (seen & bit)
			return adf_check_fail(ck, "mark twice", kinds[i]);
		seen |= bit;
		if (i == 5) {
			href = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(m, "attrs"),
			    "href"));
			if (href == NULL || !html_href_ok(href))
				return adf_check_fail(ck, "bad link href",
				    href != NULL ? href : "none");
		} else if (cJSON_GetObjectItemCaseSensitive(m, "attrs") !=
		    NULL)
			return adf_check_fail(ck, "attrs on a mark", kinds[i]);
	}
	if ((seen & (1u << 4)) && (seen & ~((1u << 4) | (1u << 5))))
		return adf_check_fail(ck, "code with a mark but link", "text");
	return 1;
}

/* A localId: a string (adf_ok() checks that none comes twice). */
static inline int
adf_check_id(struct adf_check *ck, const cJSON *n)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(n, "attrs"), "localId"));
	const char **v;

	if (id == NULL || *id == '\0')
		return adf_check_fail(ck, "no localId", adf_check_type(n));
	if (ck->nids == ck->capids) {
		if ((v = realloc(ck->ids, (ck->capids * 2 + 16) *
		    sizeof(*v))) == NULL)
			return adf_check_fail(ck, "out of memory", "localId");
		ck->ids = v;
		ck->capids = ck->capids * 2 + 16;
	}
	ck->ids[ck->nids++] = id;
	return 1;
}

static inline int
adf_check_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static inline int
adf_check_node(struct adf_check *ck, const cJSON *n, const char *parent,
    int depth)
{
	const char	*t = adf_check_type(n), *s;
	const cJSON	*content, *c, *a;
	int		 row, prow = adf_check_row(parent), k = 0;

	if (depth > ADF_CHECK_DEPTH)
		return adf_check_fail(ck, "nested too deep", t);
	if (!cJSON_IsObject(n) || (row = adf_check_row(t)) < 0 ||
	    strcmp(t, "doc") == 0)
		return adf_check_fail(ck, "node not allowed", t);
	if (prow < 0 || !adf_check_takes(prow, t))
		return adf_check_fail(ck, t, parent);
	content = cJSON_GetObjectItemCaseSensitive(n, "content");
	if (strcmp(t, "text") == 0) {
		s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(n,
		    "text"));
		if (s == NULL || *s == '\0')
			return adf_check_fail(ck, "empty text", parent);
		return adf_check_marks(ck, n, strcmp(parent, "codeBlock") == 0);
	}
	if (cJSON_GetObjectItemCaseSensitive(n, "marks") != NULL)
		return adf_check_fail(ck, "marks on a node", t);
	if (strcmp(t, "heading") == 0) {
		a = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(n, "attrs"), "level");
		if (!cJSON_IsNumber(a) || a->valuedouble < 1 ||
		    a->valuedouble > 6 || a->valuedouble != (int)a->valuedouble)
			return adf_check_fail(ck, "bad level", t);
	}
	if (strcmp(t, "orderedList") == 0 && (a =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    n, "attrs"), "order")) != NULL && (!cJSON_IsNumber(a) ||
	    a->valuedouble < 0))
		return adf_check_fail(ck, "bad order", t);
	if (strcmp(t, "taskList") == 0 && !adf_check_id(ck, n))
		return 0;
	if (strcmp(t, "taskItem") == 0) {
		if (!adf_check_id(ck, n))
			return 0;
		s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(n, "attrs"), "state"));
		if (s == NULL || (strcmp(s, "TODO") != 0 &&
		    strcmp(s, "DONE") != 0))
			return adf_check_fail(ck, "bad state", t);
	}
	if (content != NULL && !cJSON_IsArray(content))
		return adf_check_fail(ck, "content not an array", t);
	cJSON_ArrayForEach(c, content) {
		if (k++ == 0 && strcmp(t, "listItem") == 0 &&
		    strcmp(adf_check_type(c), "paragraph") != 0 &&
		    strcmp(adf_check_type(c), "codeBlock") != 0)
			return adf_check_fail(ck, "listItem starts with",
			    adf_check_type(c));
		if (k == 1 && strcmp(t, "taskList") == 0 &&
		    strcmp(adf_check_type(c), "taskItem") != 0)
			return adf_check_fail(ck, "taskList starts with",
			    adf_check_type(c));
		if (!adf_check_node(ck, c, t, depth + 1))
			return 0;
	}
	if (k == 0 && (strcmp(t, "blockquote") == 0 ||
	    strcmp(t, "bulletList") == 0 || strcmp(t, "orderedList") == 0 ||
	    strcmp(t, "listItem") == 0 || strcmp(t, "taskList") == 0 ||
	    strcmp(t, "table") == 0 || strcmp(t, "tableRow") == 0 ||
	    strcmp(t, "tableCell") == 0 || strcmp(t, "tableHeader") == 0))
		return adf_check_fail(ck, "empty", t);
	if (k > 0 && (strcmp(t, "rule") == 0 || strcmp(t, "hardBreak") == 0))
		return adf_check_fail(ck, "content in a leaf", t);
	return 1;
}

/* 1 if len bytes of json are an ADF document by the rules above. */
static inline int
adf_ok(const char *json, size_t len, char *why, size_t wl)
{
	struct adf_check ck;
	cJSON		*doc;
	const cJSON	*v, *c;
	int		 ok = 1;

	memset(&ck, 0, sizeof(ck));
	ck.why = why;
	ck.wl = wl;
	if ((doc = cJSON_ParseWithLength(json, len)) == NULL) {
		snprintf(why, wl, "not JSON");
		return 0;
	}
	v = cJSON_GetObjectItemCaseSensitive(doc, "version");
	if (strcmp(adf_check_type(doc), "doc") != 0 || !cJSON_IsNumber(v) ||
	    v->valuedouble != 1 || !cJSON_IsArray(
	    cJSON_GetObjectItemCaseSensitive(doc, "content")))
		ok = adf_check_fail(&ck, "not a version 1 doc", "doc");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "content"))
		if (ok && !adf_check_node(&ck, c, "doc", 1))
			ok = 0;
	if (ok && ck.nids > 1) {
		qsort(ck.ids, ck.nids, sizeof(*ck.ids), adf_check_cmp);
		for (size_t i = 1; i < ck.nids; i++)
			if (strcmp(ck.ids[i - 1], ck.ids[i]) == 0) {
				ok = adf_check_fail(&ck, "localId twice",
				    ck.ids[i]);
				break;
			}
	}
	free(ck.ids);
	cJSON_Delete(doc);
	return ok;
}

#endif
