/*
 * config/config_file.h - config files and presets: Lua chunks that return a table
 * of settings, evaluated in the sandbox (lua/sandbox.h), nothing else.
 *
 *   return {
 *     preset = "security",                 -- start from a preset (files only)
 *     sampling = { enabled = true, base_rate = 0.05 },
 *     ["rate_limit.per_process"] = 500,    -- a dotted key works too
 *     filter = { exclude_paths = { "/proc", "/sys" } },
 *   }
 *
 * Every setting is a row of config_keys.c; nested tables follow the dotted
 * path. Numbers are plain (sizes in bytes, durations in seconds) or strings
 * with units ("16M", "500ms"); lists are sequences of strings. Every
 * problem is reported, not only the first, each as "<file>: <key>: <what
 * was expected>, got <what was there>", and unknown keys get a "did you
 * mean". A file must be owned by root or by the user running the agent and
 * not writable by others: it decides what the agent watches.
 *
 * Presets are the files rules/presets/<name>.lua, compiled into the binary
 * so that --preset works wherever it runs. A preset cannot name a preset.
 */
#ifndef TAPIO_CONFIG_FILE_H
#define TAPIO_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* An evaluated config file or preset: its table, in a VM of its own. */
struct tp_config_doc;

/* Evaluate a config file. Returns 0 or -errno with err set ("path: ..."). */
int tp_config_doc_load_file(struct tp_config_doc **out, const char *path, char *err,
			    size_t errlen);
/* Evaluate a compiled-in preset by name; -ENOENT for an unknown one. */
int tp_config_doc_load_preset(struct tp_config_doc **out, const char *name, char *err,
			      size_t errlen);
/* Evaluate text (tests, and any caller with a chunk in memory); name is used
 * in messages. */
int tp_config_doc_load_text(struct tp_config_doc **out, const char *text, size_t len,
			    const char *name, char *err, size_t errlen);

/* The top-level "preset" of a file, or NULL when it has none (or it is not
 * a string: tp_config_doc_apply reports that). */
const char *tp_config_doc_preset(const struct tp_config_doc *d);

/*
 * Set every key of the document in cfg, as coming from src. The "preset"
 * key is skipped (the caller applies the preset first). On problems returns
 * -EINVAL with all of them in err, one per line; cfg may then be partly
 * changed.
 */
int tp_config_doc_apply(struct tp_config_doc *d, struct tp_config *cfg, enum tp_config_source src,
			char *err, size_t errlen);

void tp_config_doc_free(struct tp_config_doc *d);

/* The compiled-in presets: for (i = 0; (name = tp_preset_name_at(i)); i++). */
const char *tp_preset_name_at(size_t i);

#endif
