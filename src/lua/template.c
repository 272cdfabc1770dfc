#include "lua/template.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "events/event.h"
#include "lua/lua_event.h"

#define TP_TEMPLATE_DEPTH 8 /* components of one ${a.b.c} */

#define TP_TEMPLATE_ALTS 4 /* alternatives of one ${a|b|c|'literal'} */

/* One field reference: ${a.b.c} */
struct ref {
	const char *path[TP_TEMPLATE_DEPTH];
	size_t npath;
	int32_t code; /* what path[0] is to the event (tp_lua_event_name_code), or -1 */
};

/* Literal text, or a field with alternatives: the first that is not nil
 * renders, else the fallback literal (or <NA>). */
struct segment {
	const char *text; /* literal text, or NULL for a field */
	size_t len;
	struct ref alt[TP_TEMPLATE_ALTS];
	size_t nalt;
	const char *fallback; /* ${a|'none'}: NUL-terminated, or NULL */
};

struct tp_template {
	struct segment *segs;
	size_t nsegs;
	char *buf; /* literals and NUL-terminated path components */
};

void tp_template_free(struct tp_template *t)
{
	if (!t)
		return;
	free(t->segs);
	free(t->buf);
	free(t);
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

int tp_template_compile(const char *text, struct tp_template **out, char *err, size_t errlen)
{
	size_t n = strlen(text), cap = 8, fields = 0;
	struct tp_template *t;
	const char *p = text;
	char *w;

	*out = NULL;
	/* Bounded before any work: a template is compiled at every load and
	 * rendered on every alert, and its field names are checked against
	 * every event type the rule asks for. */
	if (n > TP_TEMPLATE_MAX_BYTES) {
		snprintf(err, errlen, "output: %zu bytes, more than the %u a template may have", n,
			 TP_TEMPLATE_MAX_BYTES);
		return -E2BIG;
	}
	t = calloc(1, sizeof(*t));
	if (t) {
		t->segs = calloc(cap, sizeof(*t->segs));
		t->buf = malloc(n + 1);
	}
	if (!t || !t->segs || !t->buf) {
		tp_template_free(t);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w = t->buf;
	while (*p) {
		struct segment *s;

		if (t->nsegs == cap) {
			struct segment *g = realloc(t->segs, 2 * cap * sizeof(*g));

			if (!g) {
				tp_template_free(t);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			t->segs = g;
			cap *= 2;
		}
		s = &t->segs[t->nsegs];
		memset(s, 0, sizeof(*s));
		if (p[0] == '$' && p[1] == '{') {
			const char *q = p + 2;
			struct ref *r = &s->alt[0];

			if (++fields > TP_TEMPLATE_MAX_FIELDS) {
				snprintf(err, errlen,
					 "output: more than %u field references (${...}) at column %zu",
					 TP_TEMPLATE_MAX_FIELDS, (size_t)(p - text) + 1);
				tp_template_free(t);
				return -E2BIG;
			}
			s->nalt = 1;
			while (*q && *q != '}') {
				size_t k = 0;

				if (*q == '\'' && s->nalt > 1) {
					/* The fallback: a quoted literal, last. */
					const char *end = strchr(q + 1, '\'');

					if (!end || end[1] != '}' || r->npath) {
						snprintf(err, errlen,
							 "output: bad literal at column %zu (want "
							 "${name|'text'}, the quoted text last)",
							 (size_t)(q - text) + 1);
						tp_template_free(t);
						return -EINVAL;
					}
					s->nalt--;
					s->fallback = w;
					memcpy(w, q + 1, (size_t)(end - q - 1));
					w[end - q - 1] = '\0';
					w += end - q;
					q = end + 1;
					break;
				}
				while (name_char(q[k]))
					k++;
				if (!k || r->npath == TP_TEMPLATE_DEPTH ||
				    (q[k] != '.' && q[k] != '}' && q[k] != '|')) {
					snprintf(err, errlen,
						 "output: bad field reference at column %zu (want "
						 "${name}, ${name.sub} or ${a|b|'text'}, letters, "
						 "digits and _)",
						 (size_t)(p - text) + 1);
					tp_template_free(t);
					return -EINVAL;
				}
				r->path[r->npath++] = w;
				memcpy(w, q, k);
				w[k] = '\0';
				w += k + 1;
				q += k;
				if (*q == '.') {
					q++;
				} else if (*q == '|') {
					if (s->nalt == TP_TEMPLATE_ALTS) {
						snprintf(err, errlen,
							 "output: more than %d alternatives at "
							 "column %zu",
							 TP_TEMPLATE_ALTS, (size_t)(p - text) + 1);
						tp_template_free(t);
						return -EINVAL;
					}
					r = &s->alt[s->nalt++];
					q++;
				}
			}
			for (size_t a = 0; a < s->nalt; a++)
				s->alt[a].code = s->alt[a].npath
						     ? tp_lua_event_name_code(s->alt[a].path[0])
						     : -1;
			if (*q != '}' || (!r->npath && !s->fallback)) {
				snprintf(err, errlen,
					 "output: unterminated or empty ${ at column %zu",
					 (size_t)(p - text) + 1);
				tp_template_free(t);
				return -EINVAL;
			}
			p = q + 1;
		} else {
			s->text = w;
			while (*p && !(p[0] == '$' && p[1] == '{')) {
				if (p[0] == '$' && p[1] == '$')
					p++;
				*w++ = *p++;
				s->len++;
			}
		}
		t->nsegs++;
	}
	*out = t;
	return 0;
}

const char *tp_template_field(const struct tp_template *t, size_t i)
{
	for (size_t k = 0, seen = 0; k < t->nsegs; k++) {
		if (t->segs[k].text)
			continue;
		for (size_t a = 0; a < t->segs[k].nalt; a++)
			if (seen++ == i)
				return t->segs[k].alt[a].path[0];
	}
	return NULL;
}

/* Append the value on top; pops it. Stack: [-1, +0] */
static void render_value(lua_State *L, struct tp_buf *out)
{
	size_t n;
	const char *s;

	switch (lua_type(L, -1)) {
	case LUA_TNIL:
		tp_buf_puts(out, "<NA>");
		break;
	case LUA_TSTRING:
		s = lua_tolstring(L, -1, &n);
		tp_buf_append(out, s, n);
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, -1))
			tp_buf_i64(out, (int64_t)lua_tointeger(L, -1));
		else
			tp_buf_printf(out, "%.6g", lua_tonumber(L, -1));
		break;
	case LUA_TBOOLEAN:
		tp_buf_puts(out, lua_toboolean(L, -1) ? "true" : "false");
		break;
	case LUA_TTABLE: { /* a list, or a read-only view of one (e.argv) */
		lua_Integer len = luaL_len(L, -1);

		for (lua_Integer i = 1; i <= len; i++) {
			if (i > 1)
				tp_buf_putc(out, ' ');
			lua_geti(L, -1, i);
			render_value(L, out);
		}
		break;
	}
	default:
		s = luaL_tolstring(L, -1, &n);
		tp_buf_append(out, s, n);
		lua_pop(L, 1);
		break;
	}
	lua_pop(L, 1);
}

/* Push the value a reference names, or nil. Stack: [-0, +1] (may raise) */
static void push_ref(lua_State *L, const struct ref *r, int ev_idx)
{
	lua_pushvalue(L, ev_idx);
	for (size_t i = 0; i < r->npath; i++) {
		int ty = lua_type(L, -1);

		if (ty != LUA_TTABLE && ty != LUA_TUSERDATA) {
			lua_pop(L, 1);
			lua_pushnil(L);
			break;
		}
		lua_getfield(L, -1, r->path[i]);
		lua_remove(L, -2);
	}
}

/* Is the value on top the event's field `name`, of a kind text output
 * writes in octal (file modes: 0644, as the event line shows them)? */
static bool octal_field(lua_State *L, int ev_idx, const char *name)
{
	const struct tp_lua_event *b;
	const struct tp_field *f;

	if (!lua_isinteger(L, -1) || lua_type(L, ev_idx) != LUA_TUSERDATA)
		return false;
	b = tp_lua_event_binding(L);
	if (!b || lua_touserdata(L, ev_idx) != b || !b->ev)
		return false;
	f = tp_event_field(b->ev->type, name);
	return f && f->kind == TP_FK_OCTAL;
}

static bool lua_only;

void tp_template_lua_only(bool on)
{
	lua_only = on;
}

/* The binding when ev_idx is the bound event: its record and process
 * context are read in C (tp_lua_event_text), no Lua value made; else NULL. */
static const struct tp_lua_event *direct(lua_State *L, int ev_idx)
{
	const struct tp_lua_event *b;

	if (lua_only || lua_type(L, ev_idx) != LUA_TUSERDATA)
		return NULL;
	b = tp_lua_event_binding(L);
	return b && b->ev && lua_touserdata(L, ev_idx) == b ? b : NULL;
}

/* A field: the first alternative that is not nil, else the quoted text
 * (or <NA>). */
static void render_field(lua_State *L, const struct segment *s, int ev_idx,
			 const struct tp_lua_event *b, struct tp_buf *out)
{
	for (size_t a = 0; a < s->nalt; a++) {
		const struct ref *r = &s->alt[a];
		int got = b ? tp_lua_event_text(b, r->code, r->path, r->npath, out) : -1;

		if (got > 0)
			return;
		if (got == 0)
			continue;
		push_ref(L, r, ev_idx);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			continue;
		}
		if (r->npath == 1 && octal_field(L, ev_idx, r->path[0])) {
			tp_buf_printf(out, "0%llo", (unsigned long long)lua_tointeger(L, -1));
			lua_pop(L, 1);
		} else {
			render_value(L, out);
		}
		return;
	}
	tp_buf_puts(out, s->fallback ? s->fallback : "<NA>");
}

void tp_template_render(lua_State *L, const struct tp_template *t, int ev_idx, struct tp_buf *out)
{
	const struct tp_lua_event *b;

	ev_idx = lua_absindex(L, ev_idx);
	b = direct(L, ev_idx);
	for (size_t k = 0; k < t->nsegs; k++) {
		const struct segment *s = &t->segs[k];

		if (s->text)
			tp_buf_append(out, s->text, s->len);
		else
			render_field(L, s, ev_idx, b, out);
	}
}
