/*
 * lua/pattern.h - a Lua 5.4 pattern matcher (manual section 6.4.1) that
 * counts its steps, so that pattern matching on untrusted strings is bounded
 * by the rule call's instruction budget (Lua's own lstrlib runs in C, out of
 * reach of the count hook: `.-.-.-.-x` on a long argument backtracks for
 * hours).
 *
 * It has no Lua dependency: lua/strpat.h binds it as string.find, match,
 * gmatch and gsub. Patterns and subjects are (pointer, length) pairs and need
 * no terminating NUL. A step is one unit of work (one attempt to match a
 * pattern item at a subject position, one character tried by a repetition or
 * %b, one byte compared by a back-reference); a match stops with
 * TP_PAT_E_BUDGET when its allowance runs out. Malformed patterns are
 * reported where Lua 5.4 reports them: when the matcher reaches the bad item,
 * so `("abc"):find("x[")` is no match and not an error, exactly as in Lua.
 */
#ifndef TAPIO_LUA_PATTERN_H
#define TAPIO_LUA_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define TP_PAT_MAXCAPTURES 32  /* LUA_MAXCAPTURES */
#define TP_PAT_MAXDEPTH	   200 /* nested matcher calls, as Lua's MAXCCALLS */

#define TP_PAT_CAP_OPEN	    (-1) /* a capture whose ')' was not reached yet */
#define TP_PAT_CAP_POSITION (-2) /* a position capture "()" */

enum tp_pat_error {
	TP_PAT_OK = 0,
	TP_PAT_E_ENDS_WITH_ESCAPE, /* malformed pattern (ends with '%') */
	TP_PAT_E_MISSING_BRACKET,  /* malformed pattern (missing ']') */
	TP_PAT_E_BALANCE_ARGS,	   /* malformed pattern (missing arguments to '%b') */
	TP_PAT_E_FRONTIER,	   /* missing '[' after '%f' in pattern */
	TP_PAT_E_CAPTURE_INDEX,	   /* invalid capture index %N (N in err_arg) */
	TP_PAT_E_CAPTURE_CLOSE,	   /* invalid pattern capture (a ')' with none open) */
	TP_PAT_E_TOO_MANY,	   /* too many captures */
	TP_PAT_E_TOO_COMPLEX,	   /* pattern too complex (nesting past TP_PAT_MAXDEPTH) */
	TP_PAT_E_BUDGET,	   /* the step allowance ran out */
};

struct tp_pat_capture {
	const char *start;
	ptrdiff_t len; /* >= 0, or TP_PAT_CAP_OPEN / TP_PAT_CAP_POSITION */
};

struct tp_pat {
	const char *subj, *subj_end; /* the whole subject (for %f and positions) */
	const char *pat_end;
	uint64_t steps_left; /* the allowance; decremented by every step */
	int depth_left;
	int ncap;
	enum tp_pat_error err;
	int err_arg;
	struct tp_pat_capture cap[TP_PAT_MAXCAPTURES];
};

/* Prepare to match pattern [pat, pat + plen) (without a leading '^' anchor,
 * which the callers handle) against subject [s, s + slen). */
void tp_pat_init(struct tp_pat *m, const char *s, size_t slen, const char *pat, size_t plen,
		 uint64_t steps);

/* Match the pattern at exactly position s of the subject. Returns the end of
 * the match, or NULL for no match or an error (m->err says which). Clears
 * the captures of an earlier attempt first. */
const char *tp_pat_match(struct tp_pat *m, const char *s, const char *pat);

/* Match at *from, or (unless anchored) at the first position after it
 * where the pattern matches, up to the end of the subject. On a match, *from
 * is where it starts and the end is returned; else NULL (m->err says if it
 * was an error). Positions that cannot start a match are skipped quickly. */
const char *tp_pat_search(struct tp_pat *m, const char **from, const char *pat, int anchored);

/* The message Lua 5.4 gives for m->err, into buf. Returns buf. */
const char *tp_pat_strerror(const struct tp_pat *m, char *buf, size_t len);

/* True when the pattern has none of Lua's special characters ^$*+?.([%-
 * (string.find then searches for it as plain text). */
int tp_pat_is_plain(const char *pat, size_t plen);

#endif
