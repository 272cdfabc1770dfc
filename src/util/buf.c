#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The 8 decimal digits of x < 10^8 as the bytes of a word (the first digit
 * in the lowest byte), each 0-9, in a few multiplies and no table: split in
 * two halves of 4 digits in 32-bit lanes, each into two pairs in 16-bit
 * lanes, each pair into two digits in bytes. A lane's divide by 100 is
 * (y * 5243) >> 19 (exact for y < 43699), by 10 (z * 103) >> 10 (z < 179);
 * neither product crosses its lane. */
static inline uint64_t digits8(uint32_t x)
{
	uint64_t v = x / 10000 | (uint64_t)(x % 10000) << 32;
	uint64_t h = ((v * 5243) >> 19) & 0x0000007f0000007full;

	v = h | (v - h * 100) << 16;
	h = ((v * 103) >> 10) & 0x000f000f000f000full;
	return h | (v - h * 10) << 8;
}

/* The digits of x < 10^8 without leading zeros at p (8 bytes written);
 * returns the end. */
static inline char *put_head(char *p, uint32_t x)
{
	uint64_t d = digits8(x);
	unsigned zeros = x ? (unsigned)__builtin_ctzll(d) / 8 : 7;

	d = (d + 0x3030303030303030ull) >> (zeros * 8);
	memcpy(p, &d, 8);
	return p + 8 - zeros;
}

/* All 8 digits of x < 10^8 at p. */
static inline char *put_8(char *p, uint32_t x)
{
	uint64_t d = digits8(x) + 0x3030303030303030ull;

	memcpy(p, &d, 8);
	return p + 8;
}

char *tp_digits8_put(char *p, uint32_t x)
{
	return put_8(p, x);
}

char *tp_u64_put(char *p, uint64_t v)
{
	uint64_t hi;

	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	if (v < 10000) {
		/* Most numbers of a line (pids, ids, small values): one 32-bit
		 * word of 4 digits, as digits8 does each half. */
		uint32_t y = (uint32_t)v, h = (y * 5243) >> 19, w, zeros;

		w = h | (y - h * 100) << 16;
		h = ((w * 103) >> 10) & 0x000f000fu;
		w = h | (w - h * 10) << 8;
		zeros = (unsigned)__builtin_ctz(w) / 8;
		w = (w + 0x30303030u) >> (zeros * 8);
		memcpy(p, &w, 4);
		return p + 4 - zeros;
	}
	if (v < 100000000)
		return put_head(p, (uint32_t)v);
	hi = v / 100000000;
	if (hi < 100000000) {
		p = put_head(p, (uint32_t)hi);
	} else {
		/* At most 1844 above the low 16 digits. */
		p = put_head(p, (uint32_t)(hi / 100000000));
		p = put_8(p, (uint32_t)(hi % 100000000));
	}
	return put_8(p, (uint32_t)(v % 100000000));
}
#else
char *tp_digits8_put(char *p, uint32_t x)
{
	for (int i = 7; i >= 0; i--, x /= 10)
		p[i] = (char)('0' + x % 10);
	return p + 8;
}

char *tp_u64_put(char *p, uint64_t v)
{
	char tmp[TP_U64_MAX_DIGITS], *end = tmp + sizeof(tmp), *q = end;

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(p, q, (size_t)(end - q));
	return p + (end - q);
}
#endif

void tp_buf_u64(struct tp_buf *b, uint64_t v)
{
	if (b->len + TP_U64_MAX_DIGITS + 1 > b->cap && !tp_buf_reserve(b, TP_U64_MAX_DIGITS))
		return;
	b->len = (size_t)(tp_u64_put(b->data + b->len, v) - b->data);
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

/* The n bytes at s escaped for a JSON string at out (room for n * 6 made);
 * nul_ends: a NUL ends the string there instead (an argv entry). Returns
 * the end; *used is the bytes of s taken (the NUL's index, or n). */
static inline __attribute__((always_inline)) char *json_escape(char *out, const unsigned char *s,
							       size_t n, size_t *used, bool nul_ends)
{
	size_t i = 0;

	while (i < n) {
#ifdef __SSE2__
		/* 16 bytes a step: below 0x20 or from 0x80 (both below 0x20 as
		 * signed bytes), '"' or '\\'. The room reserved for the worst
		 * case covers storing all 16 before counting those to keep. */
		while (i + 16 <= n) {
			__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
			__m128i sp = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
						  _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
							       _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
			unsigned m = (unsigned)_mm_movemask_epi8(sp);

			_mm_storeu_si128((__m128i *)out, v);
			if (m) {
				unsigned k = (unsigned)__builtin_ctz(m);

				out += k;
				i += k;
				if (nul_ends && s[i] == 0)
					goto end; /* the next argument starts after it */
				break;
			}
			out += 16;
			i += 16;
		}
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		/* 4 to 15 bytes left (most strings are that short, or end so):
		 * the first and last 8 or 4 at once, overlapping. */
		if (n - i >= 4 && n - i < 16) {
			size_t r = n - i;
			uint64_t a, z;

			if (r >= 8) {
				memcpy(&a, s + i, 8);
				memcpy(&z, s + n - 8, 8);
				if (!(json_special(a) | json_special(z))) {
					memcpy(out, &a, 8);
					memcpy(out + r - 8, &z, 8);
					out += r;
					i = n;
					break;
				}
			} else {
				uint32_t a4, z4;

				memcpy(&a4, s + i, 4);
				memcpy(&z4, s + n - 4, 4);
				if (!json_special(a4 | (uint64_t)z4 << 32)) {
					memcpy(out, &a4, 4);
					memcpy(out + r - 4, &z4, 4);
					out += r;
					i = n;
					break;
				}
			}
		}
		/* The common case, plain ASCII: 8 bytes a step (where SSE2 is
		 * not there, or up to a byte to escape). */
		while (i + 8 <= n) {
			uint64_t w, m;

			memcpy(&w, s + i, 8);
			m = json_special(w);
			if (m) {
				size_t k = (size_t)__builtin_ctzll(m) / 8;

				memcpy(out, s + i, 8);
				out += k;
				i += k;
				if (nul_ends && s[i] == 0)
					goto end;
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
		if (c == 0 && nul_ends)
			break;
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
end:
	*used = i;
	return out;
}

/* A string with something to escape: out of line, so that the plain
 * copy below (nearly every string) saves no registers for it. */
static __attribute__((noinline)) char *json_escape_str(char *out, const unsigned char *s, size_t n)
{
	size_t used;

	return json_escape(out, s, n, &used, false);
}

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The bytes of v that need more than a copy (one bit each): below 0x20 or
 * from 0x80 (both below 0x20 as signed bytes), '"' or '\\'. */
static inline unsigned json_special16(__m128i v)
{
	__m128i sp = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
				  _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					       _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

	return (unsigned)_mm_movemask_epi8(sp);
}

/* s[0, n) copied to out when none of its bytes needs escaping; false (out
 * holds some of them) when one does. Reads and writes within the n bytes
 * only: 16 at a time, the last 16 overlapping; below 16, the first and
 * last 8 or 4, overlapping, checked as one vector. */
static inline bool json_plain_copy(char *out, const unsigned char *s, size_t n)
{
	if (n >= 16) {
		size_t i = 0;
		__m128i v;

		for (; i + 16 <= n; i += 16) {
			v = _mm_loadu_si128((const __m128i *)(s + i));
			if (json_special16(v))
				return false;
			_mm_storeu_si128((__m128i *)(out + i), v);
		}
		if (i < n) {
			v = _mm_loadu_si128((const __m128i *)(s + n - 16));
			if (json_special16(v))
				return false;
			_mm_storeu_si128((__m128i *)(out + n - 16), v);
		}
		return true;
	}
	if (n >= 8) {
		uint64_t a, z;

		memcpy(&a, s, 8);
		memcpy(&z, s + n - 8, 8);
		if (json_special16(_mm_set_epi64x((long long)z, (long long)a)))
			return false;
		memcpy(out, &a, 8);
		memcpy(out + n - 8, &z, 8);
		return true;
	}
	if (n >= 4) {
		uint32_t a, z;

		memcpy(&a, s, 4);
		memcpy(&z, s + n - 4, 4);
		/* The upper 8 bytes are zeros: only the low 8 count. */
		if (json_special16(_mm_cvtsi64_si128((long long)((uint64_t)z << 32 | a))) & 0xff)
			return false;
		memcpy(out, &a, 4);
		memcpy(out + n - 4, &z, 4);
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] >= 0x80 || s[i] == '"' || s[i] == '\\')
			return false;
		out[i] = (char)s[i];
	}
	return true;
}
#else
static inline bool json_plain_copy(char *out, const unsigned char *s, size_t n)
{
	(void)out, (void)s, (void)n;
	return false;
}
#endif

void tp_buf_json_strn(struct tp_buf *b, const char *str, size_t max)
{
#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const unsigned char *s = (const unsigned char *)str;
	char *out;
	size_t i = 0;

	/* Worst case: every byte becomes \u00XX. */
	if (b->len + max * 6 + 3 > b->cap && !tp_buf_reserve(b, max * 6 + 2))
		return;
	out = b->data + b->len;
	*out++ = '"';
	/* 16 bytes a step up to the NUL (a byte below 0x20 like the others
	 * to escape): a plain string is copied in the scan that finds its end. */
	for (; i + 16 <= max; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
		unsigned m = json_special16(v);

		_mm_storeu_si128((__m128i *)(out + i), v);
		if (m) {
			i += (unsigned)__builtin_ctz(m);
			if (s[i] == 0) {
				out += i;
				goto end;
			}
			break;
		}
	}
	/* Something to escape at i, or fewer than 16 bytes left. */
	out = json_escape_str(out + i, s + i, strnlen(str + i, max - i));
end:
	*out++ = '"';
	b->len = (size_t)(out - b->data);
#else
	tp_buf_json_str(b, str, strnlen(str, max));
#endif
}

void tp_buf_json_str(struct tp_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char *out;

	/* Worst case: every byte becomes \u00XX. */
	if (b->len + n * 6 + 3 > b->cap && !tp_buf_reserve(b, n * 6 + 2))
		return;
	out = b->data + b->len;
	*out++ = '"';
	if (json_plain_copy(out, s, n))
		out += n;
	else
		out = json_escape_str(out, s, n);
	*out++ = '"';
	b->len = (size_t)(out - b->data);
}

void tp_buf_json_strv(struct tp_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char *out;
	size_t i = 0, used;

	/* Worst case: every byte becomes \u00XX (a NUL between two strings
	 * ",": fewer), and [""]. */
	if (b->len + n * 6 + 5 > b->cap && !tp_buf_reserve(b, n * 6 + 4))
		return;
	out = b->data + b->len;
	*out++ = '[';
	while (i < n) {
		if (i)
			*out++ = ',';
		*out++ = '"';
		out = json_escape(out, s + i, n - i, &used, true);
		*out++ = '"';
		i += used + 1;
	}
	*out++ = ']';
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
