/*
 * lua/template.h - a rule's output template: "shell ${exe} in ${container.id}".
 *
 * Compiled once when the rule loads (syntax checked, field names checked by
 * the caller), rendered per alert by reading the fields as the event
 * userdata shows them, so the text shows exactly what the rule saw: the
 * record's fields and the process context in C (tp_lua_event_text), what
 * only Lua knows (e:set keys, tables, test events) through the userdata. A missing value
 * renders as <NA>; a list (argv) as its items joined by spaces. "$$" is a
 * literal "$". Alternatives: ${newpath|path} renders the first that is not
 * nil; a quoted text last, ${container.id|'host'}, renders when none is.
 */
#ifndef TAPIO_LUA_TEMPLATE_H
#define TAPIO_LUA_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "util/buf.h"

struct tp_template;

/* Limits a rule file cannot pass (checked first, before any other work). */
#define TP_TEMPLATE_MAX_BYTES  4096u
#define TP_TEMPLATE_MAX_FIELDS 64u

/* Returns 0, -EINVAL (err says where), -E2BIG (over a limit) or -ENOMEM. */
int tp_template_compile(const char *text, struct tp_template **out, char *err, size_t errlen);
void tp_template_free(struct tp_template *t);

/* The first component of every field reference (each alternative of a
 * ${a|b}): for (i = 0; (n = tp_template_field(t, i)); i++) */
const char *tp_template_field(const struct tp_template *t, size_t i);

/* Append the rendering for the event (or table) at ev_idx. Reads fields
 * through metamethods, so call it inside a protected call.
 * Stack: [-0, +0] (may raise) */
void tp_template_render(lua_State *L, const struct tp_template *t, int ev_idx, struct tp_buf *out);

/* Read every field through Lua, as rules do, instead of the event's record
 * and process context in C where it can (the same text, without a Lua
 * value made per field): for tests and A/B benchmarks. Process-wide. */
void tp_template_lua_only(bool on);

#endif
