#include "config.h"

#include <stdlib.h>

#include "base/buf.h"
#include "t.h"

int
main(void)
{
	struct buf	 b;
	char		*s;

	buf_init(&b, 8);
	CHECK_STR(buf_str(&b), "");
	CHECK_INT(buf_puts(&b, "abc"), 0);
	CHECK_INT(buf_printf(&b, "%d%s", 12, "de"), 0);
	CHECK_STR(buf_str(&b), "abc12de");
	CHECK_INT(b.len, 7);
	CHECK_INT(buf_puts(&b, "xy"), -1);		/* past max */
	CHECK_STR(buf_str(&b), "abc12de");		/* unchanged */
	CHECK_INT(buf_putc(&b, 'z'), 0);
	CHECK_INT(buf_putc(&b, 'z'), -1);
	buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_str(&b), "");
	CHECK_INT(buf_append(&b, "a\0b", 3), 0);
	CHECK_INT(b.len, 3);
	s = buf_detach(&b);
	CHECK(s != NULL && s[0] == 'a' && s[1] == '\0' && s[2] == 'b');
	CHECK(b.data == NULL && b.len == 0);
	free(s);
	s = buf_detach(&b);
	CHECK_STR(s, "");
	free(s);
	buf_init(&b, (size_t)1 << 20);
	for (int i = 0; i < 10000; i++)
		buf_puts(&b, "0123456789");
	CHECK_INT(b.len, 100000);
	buf_release(&b);
	buf_release(&b);				/* idempotent */
	return t_done();
}
