/* The output buffer's appends: integers, JSON strings and arrays of
 * NUL-separated strings, against plain reference implementations (the fast
 * paths must write the same bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"

static void check_u64(uint64_t v)
{
	struct tp_buf b;
	char want[32], raw[TP_U64_MAX_DIGITS + 8];
	char *end;

	tp_buf_init(&b);
	tp_buf_u64(&b, v);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	assert_string_equal(tp_buf_cstr(&b), want);
	tp_buf_free(&b);
	/* tp_u64_put itself: the digits, and nothing written past its room. */
	memset(raw, 'x', sizeof(raw));
	end = tp_u64_put(raw, v);
	assert_int_equal(end - raw, strlen(want));
	assert_memory_equal(raw, want, strlen(want));
	for (size_t i = TP_U64_MAX_DIGITS; i < sizeof(raw); i++)
		assert_int_equal(raw[i], 'x');
}

static void test_u64(void **state)
{
	static const uint64_t vals[] = { 0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65535, 4294967295u,
					 1796212665022707390ull, UINT64_MAX, UINT64_MAX - 1 };
	uint64_t x = 88172645463325252ull;

	uint64_t p = 1;

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		check_u64(vals[i]);
	/* The digit count at each power of ten: 10^k - 1, 10^k, 10^k + 1. */
	for (int k = 0; k < 20; k++, p *= 10) {
		check_u64(p - 1);
		check_u64(p);
		check_u64(p + 1);
	}
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		check_u64(x >> (i % 64));
	}
}

/* The byte-at-a-time escaping the fast path must match. */
static void ref_json_str(struct tp_buf *b, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, l;

	tp_buf_putc(b, '"');
	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			tp_buf_putc(b, (char)c);
			i++;
		} else if (c >= 0x80 && (l = tp_utf8_seq_len(s + i, n - i)) > 0) {
			tp_buf_append(b, s + i, l);
			i += l;
		} else {
			char e[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf], 0 };

			switch (c) {
			case '"': tp_buf_puts(b, "\\\""); break;
			case '\\': tp_buf_puts(b, "\\\\"); break;
			case '\n': tp_buf_puts(b, "\\n"); break;
			case '\t': tp_buf_puts(b, "\\t"); break;
			case '\r': tp_buf_puts(b, "\\r"); break;
			default: tp_buf_puts(b, e);
			}
			i++;
		}
	}
	tp_buf_putc(b, '"');
}

/* What put writes for s (n bytes) against the reference ref: s copied to a
 * block of exactly n bytes (a read past it fails under ASan), after a
 * prefix of pre bytes (the output's alignment). */
static void check_put(void (*put)(struct tp_buf *, const char *, size_t),
		      void (*ref)(struct tp_buf *, const unsigned char *, size_t),
		      const unsigned char *s, size_t n, size_t pre)
{
	struct tp_buf got, want;
	unsigned char *exact = malloc(n ? n : 1);

	assert_non_null(exact);
	memcpy(exact, s, n);
	tp_buf_init(&got);
	tp_buf_init(&want);
	for (size_t i = 0; i < pre; i++) {
		tp_buf_putc(&got, 'x');
		tp_buf_putc(&want, 'x');
	}
	put(&got, (const char *)exact, n);
	ref(&want, s, n);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, got.len);
	tp_buf_free(&got);
	tp_buf_free(&want);
	free(exact);
}

static void check_json_at(const unsigned char *s, size_t n, size_t pre)
{
	check_put(tp_buf_json_str, ref_json_str, s, n, pre);
}

static void check_json(const unsigned char *s, size_t n)
{
	check_json_at(s, n, 2);
}

/* NUL-separated strings as a JSON array: each string up to a NUL or the
 * end, nothing after a last NUL (tp_argv_next's walk). */
static void ref_json_strv(struct tp_buf *b, const unsigned char *s, size_t n)
{
	size_t i = 0;

	tp_buf_putc(b, '[');
	while (i < n) {
		const unsigned char *z = memchr(s + i, 0, n - i);
		size_t len = z ? (size_t)(z - (s + i)) : n - i;

		if (i)
			tp_buf_putc(b, ',');
		ref_json_str(b, s + i, len);
		i += len + 1;
	}
	tp_buf_putc(b, ']');
}

static void check_json_strv(const unsigned char *s, size_t n, size_t pre)
{
	check_put(tp_buf_json_strv, ref_json_strv, s, n, pre);
}

static void test_json_str(void **state)
{
	static const char *const fixed[] = {
		"", "a", "/usr/lib/x86_64-linux-gnu/libc.so.6", "quote\" here", "back\\slash",
		"tab\there\nnewline\r", "ctrl \x01\x1f\x7f end", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"bad \xc3 utf8 \xff\xfe", "\"\"\"\"\"\"\"\"\"", "12345678\"12345678\\",
	};
	unsigned char s[80];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_json((const unsigned char *)fixed[i], strlen(fixed[i]));
	/* Random strings, mostly printable with specials sprinkled in (or
	 * none: whole 16- and 8-byte steps and the 4-15 byte tails), every
	 * length to 79 and output alignment. */
	for (int i = 0; i < 200000; i++) {
		size_t n = (size_t)(i % 80);
		unsigned rare = (i / 80) % 3 == 0 ? 7 : 255;

		for (size_t j = 0; j < n; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			unsigned r = (unsigned)(x >> 32);

			s[j] = (r & rare) ? (unsigned char)(0x20 + r % 95)
					  : (unsigned char)((r >> 8) & 0xff);
		}
		check_json_at(s, n, (size_t)(i / 80) % 16);
	}
}

/* A char[max] field's string: up to its first NUL or max bytes, as
 * tp_buf_json_str of its strnlen, read from a block of exactly max bytes
 * (ASan), NULs and specials anywhere, max of every size to 79. */
static void test_json_strn(void **state)
{
	unsigned char s[80];
	uint64_t x = 0x6a09e667f3bcc909ull;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t max = (size_t)(i % 80), pre = (size_t)(i / 80) % 16;
		unsigned rare = (i / 80) % 3 == 0 ? 7 : 255;
		unsigned char *exact = malloc(max ? max : 1);
		struct tp_buf got, want;

		for (size_t j = 0; j < max; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			unsigned r = (unsigned)(x >> 32);

			s[j] = (r & rare) ? (unsigned char)(0x20 + r % 95)
					  : (unsigned char)((r >> 8) & 0xff);
		}
		/* A NUL at a random place in most, none in some. */
		if (max && (x >> 20) % 4)
			s[(x >> 24) % max] = 0;
		assert_non_null(exact);
		memcpy(exact, s, max);
		tp_buf_init(&got);
		tp_buf_init(&want);
		for (size_t k = 0; k < pre; k++) {
			tp_buf_putc(&got, 'x');
			tp_buf_putc(&want, 'x');
		}
		tp_buf_json_strn(&got, (const char *)exact, max);
		ref_json_str(&want, s, strnlen((const char *)s, max));
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, got.len);
		tp_buf_free(&got);
		tp_buf_free(&want);
		free(exact);
	}
}

/* Argument vectors: NUL-separated, empty strings, a last NUL or none,
 * NULs mid 16-byte step, escapes and UTF-8 around them. */
static void test_json_strv(void **state)
{
#define V(lit) { lit, sizeof(lit) - 1 }
	static const struct { const char *s; size_t n; } fixed[] = {
		V(""), V("\0"), V("\0\0"), V("ls"), V("ls\0"), V("ls\0-la"), V("ls\0-la\0"), V("a\0\0b"),
		V("/opt/app/bin/app-worker\0--config\0/etc/app/worker.toml\0--threads\0" "4"),
		V("caf\xc3\xa9\0\xc3\0\xe2\x82\0quote\"\0tab\t"),
	};
#undef V
	unsigned char s[160];
	uint64_t x = 0x2545f4914f6cdd1dull;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_json_strv((const unsigned char *)fixed[i].s, fixed[i].n, 1);
	for (int i = 0; i < 100000; i++) {
		size_t n = (size_t)(i % 160);

		for (size_t j = 0; j < n; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			unsigned r = (unsigned)(x >> 32);

			s[j] = r % 11 == 0   ? 0
			       : (r & 15) ? (unsigned char)(0x20 + r % 95)
					  : (unsigned char)((r >> 8) & 0xff);
		}
		check_json_strv(s, n, (size_t)(i / 160) % 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_json_strn),
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_json_strv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
