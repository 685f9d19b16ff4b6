/*
 * libFuzzer harness: md2html on arbitrary bytes, then back, checked by
 * fuzz_conv_round (fuzz_conv.h) from the Markdown side.
 */
#include "config.h"

#include "fuzz_conv.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_conv_round(data, size, 0);
	return 0;
}
