#include "lua/pattern.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/*
 * A backtracking matcher, written from the Lua 5.4 manual (6.4.1). Every
 * choice Lua's matcher makes is made here in the same order (a greedy
 * repetition tries the longest run first, a lazy one the shortest, an
 * optional item tries "present" first), so the first match found, its
 * captures, the errors and "pattern too complex" are Lua's. Nesting: one
 * level per capture, per optional item that matched, per repetition being
 * backtracked; plain single items loop without nesting.
 */

static const char *fail(struct tp_pat *m, enum tp_pat_error e)
{
	if (!m->err)
		m->err = e;
	return NULL;
}

/* Take n steps of the allowance; false (and TP_PAT_E_BUDGET) when it is gone. */
static inline int step(struct tp_pat *m, uint64_t n)
{
	if (m->steps_left < n) {
		m->steps_left = 0;
		fail(m, TP_PAT_E_BUDGET);
		return 0;
	}
	m->steps_left -= n;
	return 1;
}

void tp_pat_init(struct tp_pat *m, const char *s, size_t slen, const char *pat, size_t plen,
		 uint64_t steps)
{
	m->subj = s;
	m->subj_end = s + slen;
	m->pat_end = pat + plen;
	m->steps_left = steps;
	m->depth_left = TP_PAT_MAXDEPTH;
	m->ncap = 0;
	m->err = TP_PAT_OK;
	m->err_arg = 0;
}

int tp_pat_is_plain(const char *pat, size_t plen)
{
	for (size_t i = 0; i < plen; i++) {
		switch (pat[i]) {
		case '^':
		case '$':
		case '*':
		case '+':
		case '?':
		case '.':
		case '(':
		case '[':
		case '%':
		case '-':
			return 0;
		}
	}
	return 1;
}

/* %a %c %d %g %l %p %s %u %w %x (%z), upper case for the complement; any other
 * character after '%' stands for itself. */
static int class_has(unsigned char c, unsigned char cls)
{
	int in;

	switch (tolower(cls)) {
	case 'a':
		in = isalpha(c);
		break;
	case 'c':
		in = iscntrl(c);
		break;
	case 'd':
		in = isdigit(c);
		break;
	case 'g':
		in = isgraph(c);
		break;
	case 'l':
		in = islower(c);
		break;
	case 'p':
		in = ispunct(c);
		break;
	case 's':
		in = isspace(c);
		break;
	case 'u':
		in = isupper(c);
		break;
	case 'w':
		in = isalnum(c);
		break;
	case 'x':
		in = isxdigit(c);
		break;
	case 'z':
		in = c == 0;
		break; /* gone from the manual, still in Lua 5.4 */
	default:
		return cls == c;
	}
	if (isupper(cls))
		in = !in;
	return in != 0;
}

/* Is c in the set [..] that opens at open and closes at close (its ']')?
 * The first character after '[' or '[^' is always a member, even ']'. */
static int set_has(unsigned char c, const char *open, const char *close)
{
	const char *q = open + 1;
	int member = 1;

	if (*q == '^') {
		member = 0;
		q++;
	}
	for (; q < close; q++) {
		if (*q == '%') {
			q++;
			if (class_has(c, (unsigned char)*q))
				return member;
		} else if (q + 2 < close && q[1] == '-') {
			if ((unsigned char)q[0] <= c && c <= (unsigned char)q[2])
				return member;
			q += 2;
		} else if ((unsigned char)*q == c) {
			return member;
		}
	}
	return !member;
}

/* Where the single-character class at p ends (past a ']' or an escape), or
 * NULL for a malformed one. */
static const char *item_end(struct tp_pat *m, const char *p)
{
	const char *end = m->pat_end;
	char c = *p++;

	if (c == '%') {
		if (p == end)
			return fail(m, TP_PAT_E_ENDS_WITH_ESCAPE);
		return p + 1;
	}
	if (c != '[')
		return p;
	if (p < end && *p == '^')
		p++;
	do {
		if (p == end)
			return fail(m, TP_PAT_E_MISSING_BRACKET);
		c = *p++;
		if (c == '%' && p < end)
			p++; /* "%]" is a member, not the end */
	} while (p == end || *p != ']');
	return p + 1;
}

/* Does the subject character at s belong to the class [p, ep)? */
static int char_matches(const struct tp_pat *m, const char *s, const char *p, const char *ep)
{
	unsigned char c;

	if (s >= m->subj_end)
		return 0;
	c = (unsigned char)*s;
	switch (*p) {
	case '.':
		return 1;
	case '%':
		return class_has(c, (unsigned char)p[1]);
	case '[':
		return set_has(c, p, ep - 1);
	default:
		return (unsigned char)*p == c;
	}
}

static const char *match(struct tp_pat *m, const char *s, const char *p);

/* x* and x+ (s already past the one x that + needs): the longest run first. */
static const char *repeat_greedy(struct tp_pat *m, const char *s, const char *p, const char *ep)
{
	ptrdiff_t n = 0;
	const char *r;

	while (char_matches(m, s + n, p, ep))
		n++;
	if (!step(m, (uint64_t)n)) /* after the run: it is linear in the subject */
		return NULL;
	for (; n >= 0; n--) {
		r = match(m, s + n, ep + 1);
		if (r || m->err)
			return r;
	}
	return NULL;
}

/* x-: the shortest run first. */
static const char *repeat_lazy(struct tp_pat *m, const char *s, const char *p, const char *ep)
{
	const char *r;

	for (;;) {
		r = match(m, s, ep + 1);
		if (r || m->err)
			return r;
		if (!char_matches(m, s, p, ep))
			return NULL;
		s++;
	}
}

/* %bxy at s; p points at x. */
static const char *balanced(struct tp_pat *m, const char *s, const char *p)
{
	char open, close;
	size_t depth = 1;

	if (m->pat_end - p < 2)
		return fail(m, TP_PAT_E_BALANCE_ARGS);
	if (s >= m->subj_end || *s != *p)
		return NULL;
	open = p[0];
	close = p[1];
	while (++s < m->subj_end) {
		if (!step(m, 1))
			return NULL;
		if (*s == close) {
			if (--depth == 0)
				return s + 1;
		} else if (*s == open) {
			depth++;
		}
	}
	return NULL;
}

/* %1..%9: the text of a closed capture again. */
static const char *backref(struct tp_pat *m, const char *s, int digit)
{
	int i = digit - '1';
	ptrdiff_t len;

	if (i < 0 || i >= m->ncap || m->cap[i].len == TP_PAT_CAP_OPEN) {
		m->err_arg = i + 1;
		return fail(m, TP_PAT_E_CAPTURE_INDEX);
	}
	len = m->cap[i].len;
	if (len < 0) /* a position capture: never matches text, as in Lua */
		return NULL;
	if (!step(m, 1 + (uint64_t)len))
		return NULL;
	if (m->subj_end - s >= len && memcmp(m->cap[i].start, s, (size_t)len) == 0)
		return s + len;
	return NULL;
}

static const char *capture_open(struct tp_pat *m, const char *s, const char *p, ptrdiff_t kind)
{
	const char *r;

	if (m->ncap >= TP_PAT_MAXCAPTURES)
		return fail(m, TP_PAT_E_TOO_MANY);
	m->cap[m->ncap].start = s;
	m->cap[m->ncap].len = kind;
	m->ncap++;
	r = match(m, s, p);
	if (!r)
		m->ncap--;
	return r;
}

static const char *capture_close(struct tp_pat *m, const char *s, const char *p)
{
	const char *r;
	int i;

	for (i = m->ncap - 1; i >= 0; i--)
		if (m->cap[i].len == TP_PAT_CAP_OPEN)
			break;
	if (i < 0)
		return fail(m, TP_PAT_E_CAPTURE_CLOSE);
	m->cap[i].len = s - m->cap[i].start;
	r = match(m, s, p);
	if (!r)
		m->cap[i].len = TP_PAT_CAP_OPEN;
	return r;
}

static const char *match(struct tp_pat *m, const char *s, const char *p)
{
	const char *end = m->pat_end;
	const char *ep;
	int next;

	if (m->depth_left-- == 0)
		return fail(m, TP_PAT_E_TOO_COMPLEX);
	for (;;) {
		if (!step(m, 1)) {
			s = NULL;
			break;
		}
		if (p == end)
			break;
		switch (*p) {
		case '(':
			if (p + 1 < end && p[1] == ')')
				s = capture_open(m, s, p + 2, TP_PAT_CAP_POSITION);
			else
				s = capture_open(m, s, p + 1, TP_PAT_CAP_OPEN);
			goto out;
		case ')':
			s = capture_close(m, s, p + 1);
			goto out;
		case '$':
			if (p + 1 != end)
				goto single; /* a '$' inside a pattern is a plain character */
			if (s != m->subj_end)
				s = NULL;
			goto out;
		case '%':
			if (p + 1 == end)
				goto single; /* reports the trailing '%' */
			switch (p[1]) {
			case 'b':
				s = balanced(m, s, p + 2);
				if (!s)
					goto out;
				p += 4;
				continue;
			case 'f': {
				unsigned char before, here;

				p += 2;
				if (p == end || *p != '[') {
					s = fail(m, TP_PAT_E_FRONTIER);
					goto out;
				}
				ep = item_end(m, p);
				if (!ep) {
					s = NULL;
					goto out;
				}
				before = s == m->subj ? 0 : (unsigned char)s[-1];
				here = s < m->subj_end ? (unsigned char)*s : 0;
				if (set_has(before, p, ep - 1) || !set_has(here, p, ep - 1)) {
					s = NULL;
					goto out;
				}
				p = ep;
				continue;
			}
			case '0':
			case '1':
			case '2':
			case '3':
			case '4':
			case '5':
			case '6':
			case '7':
			case '8':
			case '9':
				s = backref(m, s, (unsigned char)p[1]);
				if (!s)
					goto out;
				p += 2;
				continue;
			}
			goto single;
		}
	single:
		ep = item_end(m, p);
		if (!ep) {
			s = NULL;
			goto out;
		}
		next = ep < end ? *ep : 0;
		if (!char_matches(m, s, p, ep)) {
			if (next == '*' || next == '?' || next == '-') {
				p = ep + 1; /* zero occurrences will do */
				continue;
			}
			s = NULL;
			goto out;
		}
		switch (next) {
		case '?': {
			const char *r = match(m, s + 1, ep + 1);

			if (r || m->err) {
				s = r;
				goto out;
			}
			p = ep + 1;
			continue;
		}
		case '+':
			s = repeat_greedy(m, s + 1, p, ep);
			goto out;
		case '*':
			s = repeat_greedy(m, s, p, ep);
			goto out;
		case '-':
			s = repeat_lazy(m, s, p, ep);
			goto out;
		default:
			s++;
			p = ep;
			continue;
		}
	}
out:
	m->depth_left++;
	return s;
}

const char *tp_pat_match(struct tp_pat *m, const char *s, const char *pat)
{
	m->ncap = 0;
	m->depth_left = TP_PAT_MAXDEPTH;
	if (m->err)
		return NULL;
	return match(m, s, pat);
}

/* A literal first character that every match must start with (no
 * repetition that allows zero of it), or -1. */
static int first_literal(const char *pat, const char *end)
{
	if (pat == end)
		return -1;
	if (*pat == '%' && pat + 1 < end && !isalnum((unsigned char)pat[1])) {
		/* an escaped punctuation character, as in "%.ssh" */
		if (pat + 2 < end && (pat[2] == '*' || pat[2] == '?' || pat[2] == '-'))
			return -1;
		return (unsigned char)pat[1];
	}
	switch (*pat) {
	case '^':
	case '$':
	case '*':
	case '+':
	case '?':
	case '.':
	case '(':
	case ')':
	case '[':
	case '%':
	case '-':
		return -1;
	}
	if (pat + 1 < end && (pat[1] == '*' || pat[1] == '?' || pat[1] == '-'))
		return -1;
	return (unsigned char)*pat;
}

const char *tp_pat_search(struct tp_pat *m, const char **from, const char *pat, int anchored)
{
	int lit = anchored ? -1 : first_literal(pat, m->pat_end);
	const char *s = *from, *e;

	for (;;) {
		if (lit >= 0) {
			/* Positions without the first character fail on it before
			 * anything else is reached: skip them (a unit per 64 bytes). */
			const char *hit = memchr(s, lit, (size_t)(m->subj_end - s));
			const char *to = hit ? hit : m->subj_end;

			if (!step(m, (uint64_t)(to - s) / 64))
				return NULL;
			if (!hit) {
				s = m->subj_end; /* only the empty tail is left: no match */
				break;
			}
			s = hit;
		}
		e = tp_pat_match(m, s, pat);
		if (e) {
			*from = s;
			return e;
		}
		if (m->err || anchored || s == m->subj_end)
			break;
		s++;
	}
	return NULL;
}

const char *tp_pat_strerror(const struct tp_pat *m, char *buf, size_t len)
{
	const char *msg = "pattern matching failed";

	switch (m->err) {
	case TP_PAT_OK:
		msg = "no error";
		break;
	case TP_PAT_E_ENDS_WITH_ESCAPE:
		msg = "malformed pattern (ends with '%')";
		break;
	case TP_PAT_E_MISSING_BRACKET:
		msg = "malformed pattern (missing ']')";
		break;
	case TP_PAT_E_BALANCE_ARGS:
		msg = "malformed pattern (missing arguments to '%b')";
		break;
	case TP_PAT_E_FRONTIER:
		msg = "missing '[' after '%f' in pattern";
		break;
	case TP_PAT_E_CAPTURE_INDEX:
		snprintf(buf, len, "invalid capture index %%%d", m->err_arg);
		return buf;
	case TP_PAT_E_CAPTURE_CLOSE:
		msg = "invalid pattern capture";
		break;
	case TP_PAT_E_TOO_MANY:
		msg = "too many captures";
		break;
	case TP_PAT_E_TOO_COMPLEX:
		msg = "pattern too complex";
		break;
	case TP_PAT_E_BUDGET:
		msg = "instruction budget exceeded";
		break;
	}
	snprintf(buf, len, "%s", msg);
	return buf;
}
