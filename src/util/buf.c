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

void tp_buf_u64(struct tp_buf *b, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	tp_buf_append(b, tmp + i, sizeof(tmp) - i);
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

void tp_buf_json_str(struct tp_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	/* Worst case: every byte becomes \u00XX. */
	if (!tp_buf_reserve(b, n * 6 + 2))
		return;
	b->data[b->len++] = '"';
	while (i < n) {
		unsigned char c = s[i];
		size_t l;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			run++;
			i++;
			continue;
		}
		if (run) {
			memcpy(b->data + b->len, s + i - run, run);
			b->len += run;
			run = 0;
		}
		if (c >= 0x80 && (l = tp_utf8_seq_len(s + i, n - i)) > 0) {
			memcpy(b->data + b->len, s + i, l);
			b->len += l;
			i += l;
			continue;
		}
		b->data[b->len++] = '\\';
		switch (c) {
		case '"': b->data[b->len++] = '"'; break;
		case '\\': b->data[b->len++] = '\\'; break;
		case '\n': b->data[b->len++] = 'n'; break;
		case '\t': b->data[b->len++] = 't'; break;
		case '\r': b->data[b->len++] = 'r'; break;
		default:
			b->data[b->len++] = 'u';
			b->data[b->len++] = '0';
			b->data[b->len++] = '0';
			b->data[b->len++] = hexdig[c >> 4];
			b->data[b->len++] = hexdig[c & 0xf];
		}
		i++;
	}
	if (run) {
		memcpy(b->data + b->len, s + i - run, run);
		b->len += run;
	}
	b->data[b->len++] = '"';
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
