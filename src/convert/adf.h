/*
 * adf: Productboard rich-text HTML ↔ Atlassian Document Format, the
 * description format of Jira Cloud's REST API v3 (more-trackers.md §B.2;
 * https://developer.atlassian.com/cloud/jira/platform/apis/document/
 * structure/).
 *
 * An ADF document travels as JSON text, {"version":1,"type":"doc",
 * "content":[...]}, so that the functions fit struct tracker_ops'
 * from_html and to_html; a backend puts the text into its request with
 * cJSON_CreateRaw() or parses it.
 *
 * HTML → ADF (the html_ reader's tree, html.h):
 *
 *  - p, h1 (level 1), h2 to h6 (level 2: Productboard has two levels),
 *    pre (codeBlock, with the language of class="language-x"),
 *    blockquote, hr (rule), ul, ol (orderedList, attrs.order when it
 *    does not start at 1), br (hardBreak), tables (table, tableRow,
 *    tableHeader for th, tableCell for td, short rows padded while that
 *    stays linear), b, i, u, s, code (strong, em, underline, strike and
 *    code marks; code goes only with link, as ADF allows), and links to
 *    html_href_ok() addresses (link marks; an empty link shows its
 *    address).  Images are links already (html.h).
 *  - Checklists become taskList and taskItem where ADF allows them (the
 *    document, table cells, task lists inside task lists), when every
 *    item is a task whose content is inline text and nested checklists;
 *    otherwise the items are list items that start with U+2610 or U+2611.
 *  - ADF's rules hold (tests/unit/adf_check.h checks them): no empty text
 *    node, no marks on code-block text, a listItem starts with a
 *    paragraph or a codeBlock, blockquote and listItem hold no heading,
 *    rule, table or nested blockquote (their text moves up a level:
 *    headings become paragraphs, rules go), tables only at the top.
 *  - Text stays text: no mention, emoji, status, date or inlineCard node
 *    is made from it, whatever it says.
 *
 * ADF → HTML reads any JSON without trusting it: the same subset back
 * (heading level 1 is h1, others h2; taskItem a checkbox item), text
 * escaped, and for the rest its text: mention, emoji, status and date
 * their text; panel, expand, layouts, decisions and extensions their
 * content; media a link to an external URL or its alt text; cards a
 * link; unknown nodes their text and content.  Nodes nested deeper than
 * ADF_MAX_DEPTH keep only their text.  The result is in html_write()'s
 * normal form.
 *
 * Both directions are linear in their input, which any bytes may be.
 */
#ifndef PBSYNC_ADF_H
#define PBSYNC_ADF_H

#include <stddef.h>

#include "base/buf.h"

#define ADF_MAX_DEPTH	48		/* nodes kept as structure */

/* The text that names a feature in pbsync's footer (marker.h). */
#define ADF_MARKER_PREFIX	"pbsync:feature="
#define ADF_MARKER_LEAD		"Linked to the Productboard feature "

/*
 * Appends the ADF document (compact JSON) for len bytes of HTML to out.
 * Returns 0, or -1 when the result would exceed out's maximum or memory
 * runs out; out is then unchanged.
 */
int	 adf_from_html(const char *html, size_t len, struct buf *out);

/*
 * Appends Productboard HTML for len bytes of ADF JSON to out; empty input
 * or JSON null gives nothing, a JSON string its text.  Returns 0, or -1
 * for input that is not JSON, when the result would exceed out's maximum
 * or memory runs out; out is then unchanged.
 */
int	 adf_to_html(const char *adf, size_t len, struct buf *out);

/*
 * The footer of an issue pbsync created (marker.h, same meaning): after
 * a rule, the paragraph ADF_MARKER_LEAD + the feature's name linked to
 * its URL + ".", then a paragraph of ADF_MARKER_PREFIX + id in a code
 * mark.  ADF has no comments, so the marker is visible, as a line of
 * code; it is text, so the name can never mention anyone.
 *
 * adf_marker_append replaces the document in doc (JSON text; empty means
 * an empty document) by the same document with the footer at its end.
 * 0, or -1 when doc is not an ADF document, past doc's maximum or out of
 * memory (doc is then unchanged).
 */
int	 adf_marker_append(struct buf *doc, const char *feature_id,
	    const char *feature_name, const char *feature_url);
/*
 * Appends to out the document doc (len bytes of JSON) without its footer:
 * from the first top-level paragraph that is only ADF_MARKER_PREFIX and an
 * id to the end, with the lead paragraph, rule and empty paragraphs just
 * before it, as marker_strip_len() cuts Markdown.  Other nodes are kept as
 * they are.  Returns 1 if there was a footer, 0 if not (out gets the
 * document reprinted), -1 for input that is not an ADF document, past
 * out's maximum or out of memory (out is then unchanged).
 */
int	 adf_marker_strip(const char *doc, size_t len, struct buf *out);
/*
 * 1 if the footer of doc (len bytes of JSON) names marker exactly
 * ("pbsync:feature=<id>", marker_name()), else 0.
 */
int	 adf_marker_find(const char *doc, size_t len, const char *marker);

#endif
