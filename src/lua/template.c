#include "lua/template.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define TP_TEMPLATE_DEPTH 8 /* components of one ${a.b.c} */

struct segment {
	const char *text; /* literal text, or NULL for a field */
	size_t len;
	const char *path[TP_TEMPLATE_DEPTH];
	size_t npath;
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

			if (++fields > TP_TEMPLATE_MAX_FIELDS) {
				snprintf(err, errlen,
					 "output: more than %u field references (${...}) at column %zu",
					 TP_TEMPLATE_MAX_FIELDS, (size_t)(p - text) + 1);
				tp_template_free(t);
				return -E2BIG;
			}

			while (*q && *q != '}') {
				size_t k = 0;

				while (name_char(q[k]))
					k++;
				if (!k || s->npath == TP_TEMPLATE_DEPTH ||
				    (q[k] != '.' && q[k] != '}')) {
					snprintf(err, errlen,
						 "output: bad field reference at column %zu (want "
						 "${name} or ${name.sub}, letters, digits and _)",
						 (size_t)(p - text) + 1);
					tp_template_free(t);
					return -EINVAL;
				}
				s->path[s->npath++] = w;
				memcpy(w, q, k);
				w[k] = '\0';
				w += k + 1;
				q += k;
				if (*q == '.')
					q++;
			}
			if (*q != '}' || !s->npath) {
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
		if (seen++ == i)
			return t->segs[k].path[0];
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
	case LUA_TTABLE: {
		lua_Integer len = (lua_Integer)lua_rawlen(L, -1);

		for (lua_Integer i = 1; i <= len; i++) {
			if (i > 1)
				tp_buf_putc(out, ' ');
			lua_rawgeti(L, -1, i);
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

void tp_template_render(lua_State *L, const struct tp_template *t, int ev_idx, struct tp_buf *out)
{
	ev_idx = lua_absindex(L, ev_idx);
	for (size_t k = 0; k < t->nsegs; k++) {
		const struct segment *s = &t->segs[k];

		if (s->text) {
			tp_buf_append(out, s->text, s->len);
			continue;
		}
		lua_pushvalue(L, ev_idx);
		for (size_t i = 0; i < s->npath; i++) {
			int ty = lua_type(L, -1);

			if (ty != LUA_TTABLE && ty != LUA_TUSERDATA) {
				lua_pop(L, 1);
				lua_pushnil(L);
				break;
			}
			lua_getfield(L, -1, s->path[i]);
			lua_remove(L, -2);
		}
		render_value(L, out);
	}
}
