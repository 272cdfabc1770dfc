/*
 * lua/rules_cmd.h - `tapio-collector rules list` and `rules test`: the
 * rules a configuration loads, and their inline tests, without BPF or root.
 */
#ifndef TAPIO_LUA_RULES_CMD_H
#define TAPIO_LUA_RULES_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

/* Every rule (name, events, severity, tags, file:line, state, overrides,
 * exceptions), as a table or one JSON object per line. Problems of the
 * load go to err_out as "file:line: message". Returns 0 or a negative
 * errno (-EINVAL: the rules do not load). */
int tp_rules_cmd_list(const struct tp_config *cfg, bool json, FILE *out, FILE *err_out);

/* Load the rules (path: one file or folder instead of the configured
 * rules, with rules/lib and without the user's folder), run every inline
 * test, print each failure as "file:line: message" and a summary line.
 * Returns 0 when every test passed and the rules load, else -EINVAL. */
int tp_rules_cmd_test(const struct tp_config *cfg, const char *path, FILE *out);

#endif
