#include "config.h"

#include <string.h>

#include "t.h"
#include "convert/html2md.h"
#include "trackers/marker.h"

int
main(void)
{
	struct buf	 md;
	char		 name[64];

	marker_name("f-1", name, sizeof(name));
	CHECK_STR(name, "pbsync:feature=f-1");
	buf_init(&md, 4096);
	buf_puts(&md, "Body text\n\n- item\n\n");
	CHECK_INT(marker_append(&md, "f-1", "Dark [mode] *now*",
	    "https://pb.example/f/1"), 0);
	CHECK(strstr(buf_str(&md), "<!-- pbsync:feature=f-1 -->") != NULL);
	CHECK(strstr(buf_str(&md), "Dark \\[mode\\] \\*now\\*") != NULL);
	CHECK(strstr(buf_str(&md), "(<https://pb.example/f/1>)") != NULL);
	CHECK_INT(marker_strip_len(buf_str(&md)), strlen("Body text\n\n- item"));
	buf_reset(&md);
	CHECK_INT(marker_append(&md, "f-2", "X", ""), 0);
	CHECK_INT(marker_strip_len(buf_str(&md)), 0);	/* empty description */
	CHECK_INT(marker_strip_len("no footer here"), 14);
	/* The name is text in GitLab: no mention, no reference. */
	buf_reset(&md);
	CHECK_INT(marker_append(&md, "f-3", "@alice #1 ~x", "https://pb/f/3"),
	    0);
	CHECK(strstr(buf_str(&md), "[\\@" HTML2MD_WJ "alice \\#" HTML2MD_WJ "1 "
	    "\\~" HTML2MD_WJ "x]") != NULL);
	/* A URL that would break out of <...> gives way to the app's. */
	buf_reset(&md);
	CHECK_INT(marker_append(&md, "f-4", "X", "https://pb/f/4>x"), 0);
	CHECK(strstr(buf_str(&md), "(<https://app.productboard.com>)") != NULL);
	CHECK(strstr(buf_str(&md), "f/4>x") == NULL);
	/* The footer is the last one: the same words earlier are text. */
	buf_reset(&md);
	buf_puts(&md, "Quote: Linked to the Productboard feature [a](b).\n\n"
	    "More text");
	CHECK_INT(marker_append(&md, "f-5", "Y", "https://pb/f/5"), 0);
	CHECK_INT(marker_strip_len(buf_str(&md)),
	    strlen("Quote: Linked to the Productboard feature [a](b).\n\n"
	    "More text"));
	buf_release(&md);
	return t_done();
}
