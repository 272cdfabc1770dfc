/* libFuzzer target: any bytes as a raw segment file, read through the
 * stored-events source (segment reader, frame parser, zero-run decoder,
 * tp_decode) and both formatters: no crash, no read out of bounds, and
 * every record the source delivers is a whole, decoded event.
 *
 * The first input byte picks the shape: 0, the bytes are the whole file;
 * 1, a valid segment header comes first and the bytes are its frames; 2,
 * as 1 with each frame's CRC made right, so the fuzzer gets past the
 * checksums into the zero-run decoder and tp_decode; 3, as 2, then the
 * byte the next two input bytes point at is flipped, so the reader must
 * resynchronise among intact frames. In every mode, the damage the reader
 * reports lies inside the file. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events/format.h"
#include "obs/log.h"
#include "storage/raw_format.h"
#include "storage/source_raw.h"

static char path[64];
static struct tp_buf out;

static int on_event(void *ctx, struct tp_event *ev)
{
	(void)ctx;
	if (ev->len < sizeof(struct tp_hdr) || ev->len > TP_RECORD_MAX || !ev->type)
		abort();
	tp_buf_reset(&out);
	tp_format_json(&out, ev, NULL);
	tp_format_text(&out, ev, NULL, false);
	return 0;
}

/* Walk the bytes as frames and give each whole one its right CRC. */
static void fix_crcs(uint8_t *p, size_t n)
{
	size_t off = 0;

	while (off + sizeof(struct tp_raw_frame_hdr) <= n) {
		struct tp_raw_frame_hdr f;
		uint32_t crc;

		memcpy(&f, p + off, sizeof(f));
		if (off + sizeof(f) + f.stored_len > n)
			break;
		crc = tp_raw_crc(0, p + off + 4, sizeof(f) - 4);
		if (f.stored_len)
			crc = tp_raw_crc(crc, p + off + sizeof(f), f.stored_len);
		memcpy(p + off, &crc, 4);
		off += sizeof(f) + f.stored_len;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tp_log_set_level(TP_LOG_ERROR);
	snprintf(path, sizeof(path), "/tmp/tapio-fuzz-raw-%d.seg", (int)getpid());
	tp_buf_init(&out);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_source *src;
	char err[256];
	FILE *f;
	int r;

	f = fopen(path, "wb");
	if (!f)
		abort();
	uint8_t *copy = NULL, mode = size ? data[0] % 4 : 0;
	size_t flip = 0;

	if (mode) {
		struct tp_raw_seg_hdr h;

		tp_raw_seg_hdr_init(&h, 1700000000000000000ull, 1, 0, 0);
		fwrite(&h, sizeof(h), 1, f);
		data++;
		size--;
	}
	if (mode == 3 && size >= 2) {
		flip = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2;
		size -= 2;
	}
	if (mode >= 2 && size) {
		copy = malloc(size);
		memcpy(copy, data, size);
		fix_crcs(copy, size);
		if (mode == 3)
			copy[flip % size] ^= 0x20;
		data = copy;
	}
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	free(copy);
	if (tp_source_raw_open(&src, path, NULL, err, sizeof(err)) < 0)
		abort();
	while ((r = tp_source_poll(src, 0, 64, on_event, NULL)) > 0)
		;
	if (r != -ENODATA)
		abort();
	struct tp_raw_source_stats st;

	tp_source_raw_stats(src, &st);
	if (st.damaged_bytes > size || st.damaged_regions > size)
		abort();
	tp_source_close(src);
	unlink(path);
	return 0;
}
