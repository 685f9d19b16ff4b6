/*
 * libFuzzer harness: html2md on arbitrary bytes, then back, checked by
 * fuzz_conv_round (fuzz_conv.h) from the HTML side.
 */
#include "config.h"

#include "fuzz_conv.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_conv_round(data, size, 1);
	return 0;
}
