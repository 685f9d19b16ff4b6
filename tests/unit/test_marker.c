#include "config.h"

#include <string.h>

#include "t.h"
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
	buf_release(&md);
	return t_done();
}
