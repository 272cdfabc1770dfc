#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tp_buf_init(struct tp_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void tp_buf_free(struct tp_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

bool tp_buf_reserve(struct tp_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return false;
	need = b->len + n + 1; /* room for a terminator */
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		/* No room from now on: the inline appends' fast path falls
		 * through to here, where failed refuses them, until a reset. */
		b->failed = true;
		b->cap = 0;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void tp_buf_vprintf(struct tp_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (b->failed)
		return;
	va_copy(ap2, ap);
	n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (b->data && (size_t)n < b->cap - b->len) {
		b->len += n;
		return;
	}
	if (!tp_buf_reserve(b, (size_t)n))
		return;
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	b->len += n;
}

void tp_buf_printf(struct tp_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tp_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* "00".."99": integers are written two digits per division. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

void tp_buf_u64(struct tp_buf *b, uint64_t v)
{
	static const uint64_t pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
		10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
		100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
	};
	/* Digits: log10 from the bit length (1233/4096 ~ log10(2)), then one
	 * compare for the power of ten inside that bit length. */
	unsigned n = (unsigned)(((64 - __builtin_clzll(v | 1)) * 1233) >> 12);
	char *p;

	n += n < 20 && v >= pow10[n];
	if (n == 0)
		n = 1;
	if (!tp_buf_reserve(b, n))
		return;
	p = b->data + b->len + n;
	b->len += n;
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		*--p = digit_pairs[d + 1];
		*--p = digit_pairs[d];
	}
	if (v >= 10) {
		*--p = digit_pairs[v * 2 + 1];
		*--p = digit_pairs[v * 2];
	} else {
		*--p = (char)('0' + v);
	}
}

void tp_buf_i64(struct tp_buf *b, int64_t v)
{
	if (v < 0) {
		tp_buf_putc(b, '-');
		tp_buf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		tp_buf_u64(b, (uint64_t)v);
	}
}

size_t tp_utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range code points are invalid. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static const char hexdig[] = "0123456789abcdef";

/* A byte of each 8 that needs more than a copy in a JSON string: below
 * 0x20, '"', '\\' or 0x80 and up. Exact per byte (no borrow across bytes),
 * so the first one is found with a count of trailing zeros. */
static inline uint64_t json_special(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t low7 = w & ~high;
	/* (x + 0x7f - k) sets bit 7 of a 7-bit byte x >= k + 1; below it stays clear */
	uint64_t ctrl = ~(low7 + ones * (0x80 - 0x20)) & ~w & high; /* x < 0x20 */
	uint64_t q = low7 ^ (ones * '"'), bs = low7 ^ (ones * '\\');
	uint64_t eq = ~((q + ones * 0x7f) | q) & high;      /* x == '"' */
	uint64_t eb = ~((bs + ones * 0x7f) | bs) & high;    /* x == '\\' */

	return (w & high) | ctrl | ((eq | eb) & ~w);
}

void tp_buf_json_str(struct tp_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	/* Worst case: every byte becomes \u00XX. */
	if (!tp_buf_reserve(b, n * 6 + 2))
		return;
	char *out = b->data + b->len;

	*out++ = '"';
	while (i < n) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		/* The common case, plain ASCII: 8 bytes a step. */
		while (i + 8 <= n) {
			uint64_t w, m;

			memcpy(&w, s + i, 8);
			m = json_special(w);
			if (m) {
				size_t k = (size_t)__builtin_ctzll(m) / 8;

				memcpy(out, s + i, 8);
				out += k;
				i += k;
				break;
			}
			memcpy(out, &w, 8);
			out += 8;
			i += 8;
		}
		if (i >= n)
			break;
#endif
		unsigned char c = s[i];
		size_t l;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*out++ = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80 && (l = tp_utf8_seq_len(s + i, n - i)) > 0) {
			memcpy(out, s + i, l);
			out += l;
			i += l;
			continue;
		}
		*out++ = '\\';
		switch (c) {
		case '"': *out++ = '"'; break;
		case '\\': *out++ = '\\'; break;
		case '\n': *out++ = 'n'; break;
		case '\t': *out++ = 't'; break;
		case '\r': *out++ = 'r'; break;
		default:
			*out++ = 'u';
			*out++ = '0';
			*out++ = '0';
			*out++ = hexdig[c >> 4];
			*out++ = hexdig[c & 0xf];
		}
		i++;
	}
	*out++ = '"';
	b->len = (size_t)(out - b->data);
}

void tp_buf_text_str(struct tp_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	if (!tp_buf_reserve(b, n * 4))
		return;
	while (i < n) {
		unsigned char c = s[i];
		size_t l;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			b->data[b->len++] = (char)c;
			i++;
		} else if (c >= 0x80 && (l = tp_utf8_seq_len(s + i, n - i)) > 0) {
			memcpy(b->data + b->len, s + i, l);
			b->len += l;
			i += l;
		} else {
			b->data[b->len++] = '\\';
			switch (c) {
			case '\\': b->data[b->len++] = '\\'; break;
			case '\n': b->data[b->len++] = 'n'; break;
			case '\t': b->data[b->len++] = 't'; break;
			default:
				b->data[b->len++] = 'x';
				b->data[b->len++] = hexdig[c >> 4];
				b->data[b->len++] = hexdig[c & 0xf];
			}
			i++;
		}
	}
}

const char *tp_buf_cstr(struct tp_buf *b)
{
	if (!tp_buf_reserve(b, 0))
		return "";
	b->data[b->len] = '\0';
	return b->data;
}
