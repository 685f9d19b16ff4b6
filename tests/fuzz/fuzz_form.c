/*
 * libFuzzer harness: form bodies against a field table of every type, and
 * the same bytes as a Cookie header.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct form_field fields[] = {
		{ "csrf", FORM_LINE, 64, 0, 0 },
		{ "name", FORM_LINE, 0, 0, 0 },
		{ "text", FORM_TEXT, 4096, 0, 0 },
		{ "token", FORM_SECRET, 1024, 0, 0 },
		{ "n", FORM_INT, 0, -5, 1LL << 40 },
	};
	struct form	 f;
	char		*copy, out[64];
	long long	 n;

	if (form_parse(&f, fields, 5, (const char *)data, size) == 0) {
		(void)form_str(&f, "name");
		(void)form_int(&f, "n", &n);
		(void)form_invalid(&f, NULL);
	}
	form_release(&f);
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	(void)form_cookie(copy, "pbsync_session", out, sizeof(out));
	free(copy);
	return 0;
}
