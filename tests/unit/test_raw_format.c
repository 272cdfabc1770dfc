/* Raw segment format: the zero-run codec round-trips any bytes and refuses
 * malformed input; frames carry their record and time, and any change to a
 * frame's bytes is caught; segment headers are checked field by field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/raw_format.h"

#define SEED 0x2a /* a segment's frame seed (tp_raw_frame_seed) */

static uint8_t src[TP_RECORD_MAX], enc[TP_RECORD_MAX], dec[TP_RECORD_MAX];

/* Encode then decode n bytes of src; returns the coded length (0: stored plain). */
static size_t roundtrip(size_t n)
{
	size_t c = tp_raw_zrun_encode(src, n, enc);

	if (c) {
		assert_true(c < n);
		memset(dec, 0xaa, sizeof(dec));
		assert_int_equal(tp_raw_zrun_decode(enc, c, dec, n), 0);
		assert_memory_equal(dec, src, n);
	}
	return c;
}

static void test_zrun_shapes(void **state)
{
	(void)state;
	/* All zeros: a handful of control bytes. */
	memset(src, 0, sizeof(src));
	assert_in_range(roundtrip(TP_RECORD_MAX), 1, 2);
	assert_in_range(roundtrip(1000), 1, 16);
	/* No zeros at all: coding cannot win. */
	memset(src, 'x', sizeof(src));
	assert_int_equal(roundtrip(TP_RECORD_MAX), 0);
	assert_int_equal(roundtrip(1), 0);
	/* A record like process.exec: header, a short path, a short argv. */
	memset(src, 0, sizeof(src));
	memset(src, 'h', 64);
	memcpy(src + 80, "/usr/bin/ls", 11);
	memcpy(src + 336, "ls\0-l\0/tmp", 11);
	assert_in_range(roundtrip(1360), 64 + 11 + 11, 120);
	/* Zero runs at the start, the end, of length 1, 2, 3, 63, 64, 65, 4095. */
	for (size_t run = 1; run <= 130; run++) {
		memset(src, 'y', sizeof(src));
		memset(src, 0, run);
		memset(src + 200, 0, run);
		roundtrip(200 + run + 5);
		roundtrip(200 + run);
	}
	memset(src, 0, sizeof(src));
	src[0] = 1;
	roundtrip(TP_RECORD_MAX);
	src[TP_RECORD_MAX - 1] = 1;
	roundtrip(TP_RECORD_MAX);
}

static void test_zrun_random(void **state)
{
	(void)state;
	srand(42);
	for (int i = 0; i < 20000; i++) {
		size_t n = 1 + (size_t)rand() % TP_RECORD_MAX;
		int density = rand() % 100;

		for (size_t j = 0; j < n; j++)
			src[j] = rand() % 100 < density ? 0 : (uint8_t)(1 + rand() % 255);
		roundtrip(n);
	}
}

static void test_zrun_decode_rejects(void **state)
{
	static const struct {
		uint8_t in[4];
		size_t n, out;
	} bad[] = {
	    {{0x05, 'a'}, 2, 6}, /* literal longer than the input */
	    {{0x81}, 1, 1},	 /* zero run past the output */
	    {{0xc0}, 1, 63},	 /* long zero run past the output */
	    {{0x80}, 1, 2},	 /* output left short */
	    {{0x00, 'a'}, 2, 0}, /* nothing expected */
	    {{0x00}, 1, 1},	 /* literal with no byte */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tp_raw_zrun_decode(bad[i].in, bad[i].n, dec, bad[i].out),
				 -EBADMSG);
	assert_int_equal(tp_raw_zrun_decode((const uint8_t *)"\xc0", 1, dec, 64), 0);
	/* Random bytes: a clean yes or no, never a write past out_len (ASan). */
	srand(7);
	for (int i = 0; i < 50000; i++) {
		size_t n = (size_t)rand() % 64, out = (size_t)rand() % 300;
		uint8_t *o = malloc(out ? out : 1);

		for (size_t j = 0; j < n; j++)
			src[j] = (uint8_t)rand();
		int r = tp_raw_zrun_decode(src, n, o, out);
		assert_true(r == 0 || r == -EBADMSG);
		free(o);
	}
}

static void test_frame_roundtrip_and_damage(void **state)
{
	uint8_t frame[TP_RAW_FRAME_MAX], rec[TP_RECORD_MAX];
	uint32_t len;
	uint64_t ts;
	size_t flen;
	char why[128];
	int n;

	(void)state;
	/* zero gaps of a few bytes are not worth a token: stored plain */
	memset(src, 0, sizeof(src));
	for (int i = 0; i < 300; i += 7)
		src[i] = (uint8_t)i;
	assert_int_equal(tp_raw_frame_encode(frame, SEED, 123456789, src, 300), 16 + 300);
	/* long ones are coded */
	memset(src, 0, sizeof(src));
	for (int i = 0; i < 300; i += 37)
		src[i] = (uint8_t)i;
	n = tp_raw_frame_encode(frame, SEED, 123456789, src, 300);
	assert_true(n > 16 && n < 16 + 300);
	assert_int_equal(
	    tp_raw_frame_parse(frame, (size_t)n, SEED, rec, &len, &ts, &flen, why, sizeof(why)),
	    TP_RAW_FRAME_RECORD);
	assert_int_equal(len, 300);
	assert_int_equal(ts, 123456789);
	assert_int_equal(flen, (size_t)n);
	assert_memory_equal(rec, src, 300);
	/* Every prefix is partial, never an error. */
	for (int cut = 0; cut < n; cut++)
		assert_int_equal(tp_raw_frame_parse(frame, (size_t)cut, SEED, rec, &len, &ts, &flen,
						    why, sizeof(why)),
				 TP_RAW_FRAME_PARTIAL);
	/* Every single flipped bit is caught. */
	for (int byte = 0; byte < n; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			int r;

			frame[byte] ^= (uint8_t)(1 << bit);
			r = tp_raw_frame_parse(frame, (size_t)n, SEED, rec, &len, &ts, &flen, why,
					       sizeof(why));
			/* A flip in a length may make the frame look longer: partial. */
			assert_true(r == -EBADMSG || r == TP_RAW_FRAME_PARTIAL);
			frame[byte] ^= (uint8_t)(1 << bit);
		}
	}
	/* Sealed for another segment (a reused file's leftovers): refused,
	 * whichever the other seed, end frame too (CRC-32C is linear: a seed
	 * that differs always changes the CRC). */
	for (uint32_t other = 0; other < 4096; other++)
		if (other != SEED)
			assert_int_equal(tp_raw_frame_parse(frame, (size_t)n, other, rec, &len, &ts,
							    &flen, why, sizeof(why)),
					 -EBADMSG);
	/* Incompressible records are stored as they are. */
	memset(src, 'z', 100);
	n = tp_raw_frame_encode(frame, SEED, 1, src, 100);
	assert_int_equal(n, 16 + 100);
	assert_int_equal(tp_raw_frame_encode(frame, SEED, 1, src, 0), -EINVAL);
	assert_int_equal(tp_raw_frame_encode(frame, SEED, 1, src, TP_RECORD_MAX + 1), -EINVAL);
	/* The end frame. */
	n = tp_raw_frame_encode_end(frame, SEED, 77);
	assert_int_equal(
	    tp_raw_frame_parse(frame, (size_t)n, SEED, rec, &len, &ts, &flen, why, sizeof(why)),
	    TP_RAW_FRAME_END);
	assert_int_equal(ts, 77);
	assert_int_equal(
	    tp_raw_frame_parse(frame, (size_t)n, SEED + 1, rec, &len, &ts, &flen, why, sizeof(why)),
	    -EBADMSG);
	/* Zeros are not an end frame. */
	memset(frame, 0, 16);
	assert_int_equal(
	    tp_raw_frame_parse(frame, 16, SEED, rec, &len, &ts, &flen, why, sizeof(why)), -EBADMSG);
}

/* Coded on one thread and sealed on another: the same frame as in one step,
 * and unsealed it does not parse. */
static void test_frame_in_two_steps(void **state)
{
	uint8_t one[TP_RAW_FRAME_MAX], two[TP_RAW_FRAME_MAX], rec[TP_RECORD_MAX];
	uint32_t len;
	uint64_t ts;
	size_t flen;
	char why[128];

	(void)state;
	srand(9);
	for (int i = 0; i < 2000; i++) {
		size_t n = 1 + (size_t)rand() % 600;
		int a, b;

		memset(src, 0, n);
		for (size_t j = 0; j < n; j += 1 + (size_t)rand() % 40)
			src[j] = (uint8_t)rand();
		a = tp_raw_frame_encode(one, SEED, 42 + (uint64_t)i, src, n);
		b = tp_raw_frame_encode_body(two, 42 + (uint64_t)i, src, n);
		assert_int_equal(a, b);
		/* unsealed (CRC 0), it is refused unless its CRC is 0 */
		if (memcmp(one, two, 4) != 0)
			assert_int_equal(tp_raw_frame_parse(two, (size_t)b, SEED, rec, &len, &ts,
							    &flen, why, sizeof(why)),
					 -EBADMSG);
		tp_raw_frame_seal(two, SEED);
		assert_memory_equal(one, two, (size_t)a);
	}
	assert_int_equal(tp_raw_frame_encode_body(two, 1, src, 0), -EINVAL);
	assert_int_equal(tp_raw_frame_encode_body(two, 1, src, TP_RECORD_MAX + 1), -EINVAL);
}

static void test_segment_header(void **state)
{
	struct tp_raw_seg_hdr h, out;
	char why[128];

	(void)state;
	tp_raw_seg_hdr_init(&h, 1700000000000000000ull, 1234, SEED, TP_RAW_SEG_F_RECYCLED);
	assert_int_equal(tp_raw_seg_hdr_parse(&h, sizeof(h), &out, why, sizeof(why)), 0);
	assert_int_equal(out.created_wall_ns, 1700000000000000000ull);
	assert_int_equal(out.writer_pid, 1234);
	assert_int_equal(out.version, TP_RAW_VERSION);
	assert_int_equal(out.frame_seed, SEED);
	assert_int_equal(out.flags, TP_RAW_SEG_F_RECYCLED);
	for (size_t len = 0; len < sizeof(h); len++)
		assert_int_equal(tp_raw_seg_hdr_parse(&h, len, &out, why, sizeof(why)), -ENODATA);
	for (size_t byte = 0; byte < sizeof(h); byte++) {
		uint8_t *p = (uint8_t *)&h;

		p[byte] ^= 0x10;
		assert_int_equal(tp_raw_seg_hdr_parse(&h, sizeof(h), &out, why, sizeof(why)),
				 -EBADMSG);
		assert_true(strlen(why) > 5);
		p[byte] ^= 0x10;
	}
	memcpy(h.magic, "GARBAGE!", 8);
	assert_int_equal(tp_raw_seg_hdr_parse(&h, sizeof(h), &out, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "magic"));
	/* Records with another tp_hdr layout (an older or newer collector). */
	tp_raw_seg_hdr_init(&h, 1, 1, 0, 0);
	h.record_hdr_size = 64;
	h.crc = tp_raw_crc(0, &h, offsetof(struct tp_raw_seg_hdr, crc));
	assert_int_equal(tp_raw_seg_hdr_parse(&h, sizeof(h), &out, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "64-byte headers"));
	tp_raw_seg_hdr_init(&h, 1, 1, 0, 0);
	h.byte_order = __builtin_bswap32(TP_RAW_BYTE_ORDER);
	assert_int_equal(tp_raw_seg_hdr_parse(&h, sizeof(h), &out, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "byte order"));
	/* Version 1 (seed and flags 0) is read; a newer one is refused, saying so. */
	tp_raw_seg_hdr_init(&h, 1, 1, 0, 0);
	h.version = 1;
	h.crc = tp_raw_crc(0, &h, offsetof(struct tp_raw_seg_hdr, crc));
	assert_int_equal(tp_raw_seg_hdr_parse(&h, sizeof(h), &out, why, sizeof(why)), 0);
	assert_int_equal(out.frame_seed, 0);
	h.version = TP_RAW_VERSION + 1;
	h.crc = tp_raw_crc(0, &h, offsetof(struct tp_raw_seg_hdr, crc));
	assert_int_equal(tp_raw_seg_hdr_parse(&h, sizeof(h), &out, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "written by a newer one"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zrun_shapes),
	    cmocka_unit_test(test_zrun_random),
	    cmocka_unit_test(test_frame_in_two_steps),
	    cmocka_unit_test(test_zrun_decode_rejects),
	    cmocka_unit_test(test_frame_roundtrip_and_damage),
	    cmocka_unit_test(test_segment_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
