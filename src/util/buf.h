/*
 * buf.h - a growable byte buffer for building output lines.
 *
 * Appends never fail silently: on allocation failure the buffer is marked
 * failed, later appends are ignored, and tp_buf_failed() reports it, so a
 * caller checks once at the end instead of after every append.
 */
#ifndef TAPIO_UTIL_BUF_H
#define TAPIO_UTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tp_buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

void tp_buf_init(struct tp_buf *b);
void tp_buf_free(struct tp_buf *b);
static inline void tp_buf_reset(struct tp_buf *b) { b->len = 0; b->failed = false; }
static inline bool tp_buf_failed(const struct tp_buf *b) { return b->failed; }

/* Make room for n more bytes; returns false (and marks the buffer) on failure. */
bool tp_buf_reserve(struct tp_buf *b, size_t n);

/* The appends run per field of every event: their common case (room
 * enough) is inline, growing is tp_buf_reserve's. */
static inline void tp_buf_append(struct tp_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap && !tp_buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void tp_buf_putc(struct tp_buf *b, char c)
{
	if (b->len + 2 > b->cap && !tp_buf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
}

static inline void tp_buf_puts(struct tp_buf *b, const char *s)
{
	tp_buf_append(b, s, strlen(s));
}
void tp_buf_printf(struct tp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tp_buf_vprintf(struct tp_buf *b, const char *fmt, va_list ap);
void tp_buf_u64(struct tp_buf *b, uint64_t v);
/* The decimal digits of v at p, no terminator; returns the end. Writes
 * up to TP_U64_MAX_DIGITS bytes from p whatever the digits (words at a
 * time): room for that many is the caller's. */
#define TP_U64_MAX_DIGITS 20
char *tp_u64_put(char *p, uint64_t v);
/* The 8 digits of x < 10^8 at p, zero-padded; returns the end. */
char *tp_digits8_put(char *p, uint32_t x);
void tp_buf_i64(struct tp_buf *b, int64_t v);

/* Append s (n bytes, may hold any byte) as a JSON string with quotes.
 * Invalid UTF-8 bytes are written as \u00XX so the output is always valid. */
void tp_buf_json_str(struct tp_buf *b, const char *s, size_t n);
/* Append the string at s that ends at its first NUL or after max bytes
 * (a char[max] field), as tp_buf_json_str(b, s, strnlen(s, max)) does;
 * reads within the max bytes only. */
void tp_buf_json_strn(struct tp_buf *b, const char *s, size_t max);
/* Append the NUL-separated strings of s (n bytes; a last NUL ends the last
 * string) as a JSON array of strings, as tp_argv_next walks them. */
void tp_buf_json_strv(struct tp_buf *b, const char *s, size_t n);

/* Append s with control characters and invalid UTF-8 escaped (\n, \x1b...),
 * for human-readable output that a hostile process name cannot garble. */
void tp_buf_text_str(struct tp_buf *b, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (at most n > 0 bytes), 0 if invalid
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
size_t tp_utf8_seq_len(const unsigned char *s, size_t n);

/* NUL-terminate without counting the terminator in len. */
const char *tp_buf_cstr(struct tp_buf *b);

#endif
