/*
 * lua/rules_lint.h - what `--validate` warns about in a rule set that loads
 * and passes its tests, but is likely wrong:
 *   - a rule's `when` reads a field that no event of the rule's types has
 *     (e.pathname in a file.open rule: always nil, the rule never matches);
 *     fields that the set's enrich functions add with e:set are known;
 *   - a rule without inline tests;
 *   - a rule's `when` raises on a plain event of one of its types (the
 *     event rule tests start from: every field zero or empty, pid 1000,
 *     ppid 1, no enrichment), which a live event like it would fault.
 * The load itself reports errors (unknown keys, types, fields named in an
 * output template); these are warnings: --validate prints them and still
 * exits 0 when nothing else is wrong.
 */
#ifndef TAPIO_LUA_RULES_LINT_H
#define TAPIO_LUA_RULES_LINT_H

#include <stddef.h>

struct tp_ruleset;

/* Call warn once per warning ("file:line: warning: ..."). Returns how many. */
size_t tp_ruleset_lint(struct tp_ruleset *rs, void (*warn)(void *ctx, const char *msg), void *ctx);

#endif
