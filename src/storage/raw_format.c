#include "storage/raw_format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

uint32_t tp_raw_crc(uint32_t crc, const void *data, size_t len)
{
	return (uint32_t)crc32(crc, data, (uInt)len);
}

void tp_raw_seg_hdr_init(struct tp_raw_seg_hdr *h, uint64_t created_wall_ns, uint32_t pid)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, TP_RAW_MAGIC, sizeof(h->magic));
	h->byte_order = TP_RAW_BYTE_ORDER;
	h->version = TP_RAW_VERSION;
	h->hdr_size = sizeof(*h);
	h->created_wall_ns = created_wall_ns;
	h->writer_pid = pid;
	h->crc = tp_raw_crc(0, h, offsetof(struct tp_raw_seg_hdr, crc));
}

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

int tp_raw_seg_hdr_parse(const void *data, size_t len, struct tp_raw_seg_hdr *h, char *why,
			 size_t whylen)
{
	if (len < sizeof(*h))
		return -ENODATA;
	memcpy(h, data, sizeof(*h));
	if (memcmp(h->magic, TP_RAW_MAGIC, sizeof(h->magic)))
		return bad(why, whylen, "not a tapio raw segment (bad magic)");
	if (h->byte_order != TP_RAW_BYTE_ORDER)
		return bad(why, whylen, "written on a machine of another byte order (0x%08x)",
			   h->byte_order);
	if (h->version != TP_RAW_VERSION)
		return bad(why, whylen, "unsupported format version %u", h->version);
	if (h->crc != tp_raw_crc(0, h, offsetof(struct tp_raw_seg_hdr, crc)))
		return bad(why, whylen, "segment header checksum mismatch");
	if (h->hdr_size != sizeof(*h))
		return bad(why, whylen, "unsupported header size %u", h->hdr_size);
	return 0;
}

static uint32_t frame_crc(const struct tp_raw_frame_hdr *f, const void *payload)
{
	uint32_t crc = tp_raw_crc(0, (const uint8_t *)f + 4, sizeof(*f) - 4);

	/* Not through zlib with no bytes: crc32(c, NULL, 0) returns 0, not c. */
	return f->stored_len ? tp_raw_crc(crc, payload, f->stored_len) : crc;
}

int tp_raw_frame_encode(void *dst, uint64_t ts_wall_ns, const void *rec, size_t len)
{
	struct tp_raw_frame_hdr f;
	uint8_t *payload = (uint8_t *)dst + sizeof(f);
	size_t coded;

	if (len == 0 || len > TP_RECORD_MAX)
		return -EINVAL;
	coded = tp_raw_zrun_encode(rec, len, payload);
	if (!coded) {
		memcpy(payload, rec, len);
		coded = len;
	}
	f.stored_len = (uint16_t)coded;
	f.record_len = (uint16_t)len;
	f.ts_wall_ns = ts_wall_ns;
	f.crc = frame_crc(&f, payload);
	memcpy(dst, &f, sizeof(f));
	return (int)(sizeof(f) + coded);
}

int tp_raw_frame_encode_end(void *dst, uint64_t nrecords)
{
	struct tp_raw_frame_hdr f = {.ts_wall_ns = nrecords};

	f.crc = frame_crc(&f, NULL);
	memcpy(dst, &f, sizeof(f));
	return (int)sizeof(f);
}

int tp_raw_frame_parse(const void *data, size_t avail, void *rec, uint32_t *rec_len,
		       uint64_t *ts_wall_ns, size_t *frame_len, char *why, size_t whylen)
{
	const uint8_t *payload = (const uint8_t *)data + sizeof(struct tp_raw_frame_hdr);
	struct tp_raw_frame_hdr f;

	if (avail < sizeof(f))
		return TP_RAW_FRAME_PARTIAL;
	memcpy(&f, data, sizeof(f));
	/* Lengths are checked before the CRC so a torn frame is told apart
	 * from a corrupt one, and so no length sends us past avail. */
	if (f.record_len > TP_RECORD_MAX)
		return bad(why, whylen, "frame claims a %u-byte record", f.record_len);
	if (f.stored_len > f.record_len)
		return bad(why, whylen, "frame payload longer than its record (%u bytes)",
			   f.stored_len);
	if (f.record_len == 0 && (f.stored_len != 0 || f.crc != frame_crc(&f, NULL)))
		return bad(why, whylen, "bad end frame");
	if (avail < sizeof(f) + f.stored_len)
		return TP_RAW_FRAME_PARTIAL;
	if (f.crc != frame_crc(&f, payload))
		return bad(why, whylen, "frame checksum mismatch");
	*frame_len = sizeof(f) + f.stored_len;
	*ts_wall_ns = f.ts_wall_ns;
	if (f.record_len == 0) {
		*rec_len = 0;
		return TP_RAW_FRAME_END;
	}
	if (f.stored_len == f.record_len)
		memcpy(rec, payload, f.record_len);
	else if (tp_raw_zrun_decode(payload, f.stored_len, rec, f.record_len) < 0)
		return bad(why, whylen, "frame payload does not decode");
	*rec_len = f.record_len;
	return TP_RAW_FRAME_RECORD;
}

/* Zero runs shorter than this stay literal: a run token costs one byte and
 * cutting a literal run costs another. */
#define ZRUN_MIN 3

static inline int has_zero_byte(uint64_t v)
{
	return ((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull) != 0;
}

/* First index >= i where a zero byte is, or n. */
static size_t next_zero(const uint8_t *s, size_t i, size_t n)
{
	uint64_t w;

	while (i + 8 <= n) {
		memcpy(&w, s + i, 8);
		if (has_zero_byte(w))
			break;
		i += 8;
	}
	while (i < n && s[i])
		i++;
	return i;
}

/* First index >= i where a non-zero byte is, or n. */
static size_t next_nonzero(const uint8_t *s, size_t i, size_t n)
{
	uint64_t w;

	while (i + 8 <= n) {
		memcpy(&w, s + i, 8);
		if (w)
			break;
		i += 8;
	}
	while (i < n && !s[i])
		i++;
	return i;
}

size_t tp_raw_zrun_encode(const uint8_t *src, size_t n, uint8_t *dst)
{
	size_t in = 0, out = 0, lit = 0; /* literal run: [lit, zero start) */

	while (in < n) {
		size_t z = next_zero(src, in, n), end = z < n ? next_nonzero(src, z, n) : n;
		size_t zlen = end - z;

		if (z < n && zlen < ZRUN_MIN && end < n) {
			in = end; /* too short to code: the zeros stay in the literal */
			continue;
		}
		if (zlen < ZRUN_MIN) {
			z = end; /* a short zero tail stays literal too */
			zlen = 0;
		}
		for (size_t l = lit; l < z;) {
			size_t k = z - l > 128 ? 128 : z - l;

			if (out + 1 + k >= n)
				return 0;
			dst[out++] = (uint8_t)(k - 1);
			memcpy(dst + out, src + l, k);
			out += k;
			l += k;
		}
		while (zlen) {
			uint8_t c;

			if (zlen >= 64) {
				size_t m = zlen / 64 > 64 ? 64 : zlen / 64;

				c = (uint8_t)(0xc0 | (m - 1));
				zlen -= m * 64;
			} else {
				c = (uint8_t)(0x80 | (zlen - 1));
				zlen = 0;
			}
			if (out + 1 >= n)
				return 0;
			dst[out++] = c;
		}
		in = lit = end;
	}
	return out;
}

int tp_raw_zrun_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t out_len)
{
	size_t in = 0, out = 0;

	while (in < n) {
		uint8_t c = src[in++];
		size_t k;

		if (c < 0x80) {
			k = (size_t)c + 1;
			if (k > n - in || k > out_len - out)
				return -EBADMSG;
			memcpy(dst + out, src + in, k);
			in += k;
		} else {
			k = c < 0xc0 ? (size_t)(c & 0x3f) + 1 : ((size_t)(c & 0x3f) + 1) * 64;
			if (k > out_len - out)
				return -EBADMSG;
			memset(dst + out, 0, k);
		}
		out += k;
	}
	return out == out_len ? 0 : -EBADMSG;
}
