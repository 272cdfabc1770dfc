/*
 * config/config_keys_internal.h - what the units of the key table share (not a
 * public header: include it only from config_keys*.c).
 *
 *   config_keys.c         the table of keys, lookups, suggestions, sources
 *   config_keys_set.c     values into struct tp_config: parse and check
 *   config_keys_format.c  values out: Lua literals, descriptions, the
 *                         rendered config and the README reference
 */
#ifndef TAPIO_CONFIG_KEYS_INTERNAL_H
#define TAPIO_CONFIG_KEYS_INTERNAL_H

#include "config/config_keys.h"

#define SEC 1e9

/* The choices of log.level (its setter also takes "warning"). */
extern const char *const tp_config_log_levels[];

/* The row number of k, an index into cfg->key_source. */
size_t tp_config_key_index(const struct tp_config_key *k);

static inline void *field(struct tp_config *cfg, const struct tp_config_key *k)
{
	return (char *)cfg + k->offset;
}

static inline const void *cfield(const struct tp_config *cfg, const struct tp_config_key *k)
{
	return (const char *)cfg + k->offset;
}

/* The rows of type TP_KEY_CUSTOM: setters in config_keys_set.c, formatters
 * in config_keys_format.c. */
int set_rule_paths(struct tp_config *cfg, const struct tp_config_key *k,
			  const struct tp_cval *v, char *err, size_t errlen);
int set_excludes(struct tp_config *cfg, const struct tp_config_key *k,
			const struct tp_cval *v, char *err, size_t errlen);
void format_excludes(const struct tp_config *cfg, const struct tp_config_key *k,
			    struct tp_buf *b);
int set_kernel_list(struct tp_config *cfg, const struct tp_config_key *k,
		    const struct tp_cval *v, char *err, size_t errlen);
void format_bpf_commands(const struct tp_config *cfg, const struct tp_config_key *k,
				struct tp_buf *b);
void format_io_uring_ops(const struct tp_config *cfg, const struct tp_config_key *k,
			 struct tp_buf *b);
void format_exec_env(const struct tp_config *cfg, const struct tp_config_key *k,
		     struct tp_buf *b);
void format_rule_paths(const struct tp_config *cfg, const struct tp_config_key *k,
			      struct tp_buf *b);
/* "filter.exclude_comms" (else filter.exclude_paths): one setter for both. */
bool is_comms(const struct tp_config_key *k);

#endif
