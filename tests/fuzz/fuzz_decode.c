/* libFuzzer target: any bytes into the decoder, then through both
 * formatters, must neither crash nor read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/decode.h"
#include "events/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tp_event ev;
	static struct tp_buf b;
	uint8_t *copy = malloc(size ? size : 1);

	/* An exact-size heap copy so ASan sees any read past the end. */
	memcpy(copy, data, size);
	if (tp_decode(copy, size, 0, &ev) == 0) {
		tp_buf_reset(&b);
		tp_format_json(&b, &ev, NULL);
		tp_format_text(&b, &ev, NULL, true);
	}
	free(copy);
	return 0;
}
