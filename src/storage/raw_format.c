#include "storage/raw_format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/crc32c.h"

uint32_t tp_raw_crc(uint32_t crc, const void *data, size_t len)
{
	return tp_crc32c(crc, data, len);
}

void tp_raw_seg_hdr_init(struct tp_raw_seg_hdr *h, uint64_t created_wall_ns, uint32_t pid,
			 uint32_t seed, uint16_t flags)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, TP_RAW_MAGIC, sizeof(h->magic));
	h->byte_order = TP_RAW_BYTE_ORDER;
	h->version = TP_RAW_VERSION;
	h->hdr_size = sizeof(*h);
	h->created_wall_ns = created_wall_ns;
	h->writer_pid = pid;
	h->record_hdr_size = sizeof(struct tp_hdr);
	h->flags = flags;
	h->frame_seed = seed;
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
	if (h->version < TP_RAW_VERSION_MIN || h->version > TP_RAW_VERSION)
		return bad(why, whylen,
			   "unsupported format version %u (this tapio-collector reads %u to %u: "
			   "written by a newer one)",
			   h->version, TP_RAW_VERSION_MIN, TP_RAW_VERSION);
	if (h->crc != tp_raw_crc(0, h, offsetof(struct tp_raw_seg_hdr, crc)))
		return bad(why, whylen, "segment header checksum mismatch");
	if (h->hdr_size != sizeof(*h))
		return bad(why, whylen, "unsupported header size %u", h->hdr_size);
	if (h->record_hdr_size != sizeof(struct tp_hdr))
		return bad(why, whylen,
			   "its events have %u-byte headers, this tapio-collector reads %zu-byte "
			   "ones (written by another version)",
			   h->record_hdr_size, sizeof(struct tp_hdr));
	return 0;
}

/* A frame's CRC: of its header after the crc field, then its payload; the
 * two follow each other wherever a frame is (a queue, a batch, a file).
 * Continued from the segment's seed (raw_format.h says why). */
static uint32_t frame_crc(const void *frame, uint16_t stored_len, uint32_t seed)
{
	return tp_raw_crc(seed, (const uint8_t *)frame + 4,
			  sizeof(struct tp_raw_frame_hdr) - 4 + stored_len);
}

_Static_assert(offsetof(struct tp_raw_frame_hdr, crc) == 0, "the CRC covers what follows it");

int tp_raw_frame_encode_body(void *dst, uint64_t ts_wall_ns, const void *rec, size_t len)
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
	f.crc = 0;
	f.stored_len = (uint16_t)coded;
	f.record_len = (uint16_t)len;
	f.ts_wall_ns = ts_wall_ns;
	memcpy(dst, &f, sizeof(f));
	return (int)(sizeof(f) + coded);
}

void tp_raw_frame_seal(void *frame, uint32_t seed)
{
	struct tp_raw_frame_hdr f;

	memcpy(&f, frame, sizeof(f));
	f.crc = frame_crc(frame, f.stored_len, seed);
	memcpy(frame, &f.crc, sizeof(f.crc));
}

int tp_raw_frame_encode(void *dst, uint32_t seed, uint64_t ts_wall_ns, const void *rec, size_t len)
{
	int flen = tp_raw_frame_encode_body(dst, ts_wall_ns, rec, len);

	if (flen > 0)
		tp_raw_frame_seal(dst, seed);
	return flen;
}

int tp_raw_frame_encode_end(void *dst, uint32_t seed, uint64_t nrecords)
{
	struct tp_raw_frame_hdr f = {.ts_wall_ns = nrecords};

	memcpy(dst, &f, sizeof(f));
	tp_raw_frame_seal(dst, seed);
	return (int)sizeof(f);
}

int tp_raw_frame_parse(const void *data, size_t avail, uint32_t seed, void *rec, uint32_t *rec_len,
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
	if (f.record_len == 0 && (f.stored_len != 0 || f.crc != frame_crc(data, 0, seed)))
		return bad(why, whylen, "bad end frame");
	if (avail < sizeof(f) + f.stored_len)
		return TP_RAW_FRAME_PARTIAL;
	if (f.crc != frame_crc(data, f.stored_len, seed))
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

/* Copy k (1..128) bytes with fixed-size moves that may overlap each other,
 * never reading or writing outside the k bytes: no call, and one branch on
 * the size class rather than a size-indexed jump. */
static inline void copy_small(uint8_t *d, const uint8_t *s, size_t k)
{
	if (k >= 16) {
		size_t i;

		for (i = 0; i + 16 <= k; i += 16)
			memcpy(d + i, s + i, 16);
		if (i < k)
			memcpy(d + k - 16, s + k - 16, 16);
	} else if (k >= 8) {
		memcpy(d, s, 8);
		memcpy(d + k - 8, s + k - 8, 8);
	} else if (k >= 4) {
		memcpy(d, s, 4);
		memcpy(d + k - 4, s + k - 4, 4);
	} else {
		d[0] = s[0];
		d[k / 2] = s[k / 2];
		d[k - 1] = s[k - 1];
	}
}

/* Append the literal bytes src[from, to) as literal tokens. Returns false
 * when that would make the output as long as the record (n). */
static bool put_literal(const uint8_t *src, size_t from, size_t to, uint8_t *dst, size_t *out,
			size_t n)
{
	while (from < to) {
		size_t k = to - from > 128 ? 128 : to - from;

		if (*out + 1 + k >= n)
			return false;
		dst[(*out)++] = (uint8_t)(k - 1);
		copy_small(dst + *out, src + from, k);
		*out += k;
		from += k;
	}
	return true;
}

static bool put_zeros(size_t zlen, uint8_t *dst, size_t *out, size_t n)
{
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
		if (*out + 1 >= n)
			return false;
		dst[(*out)++] = c;
	}
	return true;
}

/* Are the 16 bytes at p all zero? (two loads, one test) */
static inline bool zero16(const uint8_t *p)
{
	uint64_t a, b;

	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	return (a | b) == 0;
}

/* Where the zero bytes that end src[lit, i) begin. */
static inline size_t zeros_before(const uint8_t *src, size_t lit, size_t i)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (i >= lit + 8) {
		uint64_t w;

		memcpy(&w, src + i - 8, 8);
		if (w)
			return i - (size_t)__builtin_clzll(w) / 8; /* the last bytes are high */
		i -= 8;
	}
#endif
	while (i > lit && !src[i - 1])
		i--;
	return i;
}

/* Where the zero bytes that start src[e, n) end. */
static inline size_t zeros_after(const uint8_t *src, size_t e, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (e + 8 <= n) {
		uint64_t w;

		memcpy(&w, src + e, 8);
		if (w)
			return e + (size_t)__builtin_ctzll(w) / 8;
		e += 8;
	}
#endif
	while (e < n && !src[e])
		e++;
	return e;
}

/*
 * Only zero runs that hold a zero 16-byte block (at a multiple of 16 from
 * the record's start) are coded: the scan looks at 16 bytes per step, and
 * what it leaves literal (zero fields of a few bytes) costs a few bytes on
 * disk but no token. Records are structs whose empty space (string tails,
 * unused buffers) is long and aligned. A run found so is extended on both
 * sides (at most 15 bytes each), a word at a time.
 */
size_t tp_raw_zrun_encode(const uint8_t *src, size_t n, uint8_t *dst)
{
	size_t out = 0, lit = 0, i = 0;

	while (i + 16 <= n) {
		size_t z, e;

		if (!zero16(src + i)) {
			i += 16;
			continue;
		}
		z = zeros_before(src, lit, i);
		e = i + 16;
		while (e + 16 <= n && zero16(src + e))
			e += 16;
		e = zeros_after(src, e, n);
		if (!put_literal(src, lit, z, dst, &out, n) || !put_zeros(e - z, dst, &out, n))
			return 0;
		lit = e;
		i = (e + 15) & ~(size_t)15;
	}
	if (!put_literal(src, lit, n, dst, &out, n))
		return 0;
	return out;
}

int tp_raw_zrun_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t out_len)
{
	size_t in = 0, out = 0;

	/* Zero runs then cost nothing but a bounds check. */
	memset(dst, 0, out_len);
	while (in < n) {
		uint8_t c = src[in++];
		size_t k;

		if (c < 0x80) {
			k = (size_t)c + 1;
			if (k > n - in || k > out_len - out)
				return -EBADMSG;
			copy_small(dst + out, src + in, k);
			in += k;
		} else {
			k = c < 0xc0 ? (size_t)(c & 0x3f) + 1 : ((size_t)(c & 0x3f) + 1) * 64;
			if (k > out_len - out)
				return -EBADMSG;
		}
		out += k;
	}
	return out == out_len ? 0 : -EBADMSG;
}
