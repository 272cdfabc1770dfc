/* Spool files are read back after a crash or from a damaged disk: any bytes
 * must parse into a consistent batch or be refused, and trimming a parsed
 * batch must keep it consistent. The checksum is fixed up first (every
 * other input would stop there), so the fuzzer reaches the structure. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "delivery/pbwire.h"
#include "delivery/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_batch *b;
	const char *why;
	size_t off = 0, item;
	uint32_t n = 0, crc;
	uint8_t *img;
	int r;

	img = malloc(size ? size : 1);
	if (!img)
		return 0;
	memcpy(img, data, size);
	if (size >= TP_SPOOL_HDR_SIZE) {
		crc = (uint32_t)crc32(0, img + TP_SPOOL_HDR_SIZE, (uInt)(size - TP_SPOOL_HDR_SIZE));
		for (int i = 0; i < 4; i++)
			img[28 + i] = (uint8_t)(crc >> (8 * i));
	}
	r = tp_spool_parse(img, size, &b, &why);
	free(img);
	if (r < 0)
		return 0;
	if (tp_batch_blob_len(b) != size - TP_SPOOL_HDR_SIZE)
		abort();
	r = tp_batch_drop_ranks(b, size ? data[size - 1] % TP_RANKS : 0);
	if (r < 0)
		abort(); /* parse checked the framing */
	while (tp_pb_item(tp_batch_body(b), b->body_len, off, &item) == 0) {
		off += item;
		n++;
	}
	if (off != b->body_len || n != b->nevents)
		abort();
	tp_batch_free(b);
	return 0;
}
