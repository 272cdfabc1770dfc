/*
 * cli.h - command line and environment into struct tp_config.
 */
#ifndef TAPIO_CLI_H
#define TAPIO_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"

#define TP_CLI_EXIT_OK 1 /* --help or --version was printed: exit 0 */

/* Apply TAPIO_* environment variables. Returns 0 or -EINVAL with err set. */
int tp_cli_apply_env(struct tp_config *cfg, char *err, size_t errlen);

/*
 * Parse argv into cfg (on top of what is already there). Returns 0,
 * TP_CLI_EXIT_OK when --help/--version was printed to out, or -EINVAL with
 * a message (and a hint where one helps) in err.
 */
int tp_cli_parse(int argc, char **argv, struct tp_config *cfg, FILE *out, char *err, size_t errlen);

/*
 * Build the whole configuration, each layer over the one before:
 * defaults < preset (-p, or the file's "preset", or "default") < config file
 * (-c) < environment < flags. Returns 0, TP_CLI_EXIT_OK (--help/--version
 * printed), or a negative errno with every problem in err (a config file
 * may have several, one per line).
 */
int tp_cli_load(int argc, char **argv, struct tp_config *cfg, FILE *out, char *err, size_t errlen);

void tp_cli_usage(FILE *out);

/* The closest long option to an unknown one, or NULL; for "did you mean". */
const char *tp_cli_suggest(const char *unknown);

#endif
