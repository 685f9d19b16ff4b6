/*
 * mdtable: GFM pipe tables (GFM spec §4.10), which cmark does not parse,
 * made from the paragraphs cmark left in their place.
 *
 * A table becomes custom blocks (table, thead and tbody, tr, th and td)
 * whose enter and leave texts are their tags; each cell holds one
 * paragraph of inline Markdown.  md2html renders them like any block.
 */
#ifndef PBSYNC_MDTABLE_H
#define PBSYNC_MDTABLE_H

#include <cmark.h>

#include "convert/mdext.h"

/*
 * Replaces each paragraph of root's tree that is a table, and whose cells
 * stay within html.h's HTML_MAX_DEPTH levels (md2html's limit too), by the
 * table: 0, or -1 (out of memory).
 */
int	 mdtable_build(const struct mdext *, cmark_node *root);

#endif
