/*
 * raw_cmd.h - the command lines of `tapio-collector raw cat` and
 * `tapio-collector replay`, and the raw cat loop.
 *
 *   raw cat PATH [--json] [--since T] [--until T] [--type T[,T...]]
 *   replay PATH [--since T] [--until T] [--type T] [any collector option]
 *
 * PATH is a raw storage directory or one segment file. replay hands every
 * option it does not know to the collector's own parser (tp_cli_parse), so
 * -r, -o, -a, -c and the rest mean what they mean live.
 */
#ifndef TAPIO_STORAGE_RAW_CMD_H
#define TAPIO_STORAGE_RAW_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "events/format.h"
#include "pipeline/source.h"
#include "storage/source_raw.h"

#define TP_RAW_CMD_HELP 1 /* --help was printed: exit 0 */

struct tp_raw_cmd {
	const char *path;
	struct tp_raw_filter filter;
	enum tp_output_format fmt; /* raw cat: text or json */
};

void tp_raw_cmd_usage(FILE *out);

/* argv[0] is "cat". Returns 0, TP_RAW_CMD_HELP, or -EINVAL with err set. */
int tp_raw_cmd_parse_cat(int argc, char **argv, struct tp_raw_cmd *cmd, FILE *out, char *err,
			 size_t errlen);

/*
 * argv is the whole command line, argv[1] "replay". Takes out "replay",
 * PATH and the filter options, leaving argv[0] and the remaining options in
 * argv[0..*argc) for tp_cli_parse. Returns 0, TP_RAW_CMD_HELP, or -EINVAL.
 */
int tp_raw_cmd_parse_replay(int *argc, char **argv, struct tp_raw_cmd *cmd, FILE *out, char *err,
			    size_t errlen);

/* Print every event of src on fd. Returns 0, or -EPIPE when fd stopped
 * taking output, or another -errno (err set). */
int tp_raw_cat(struct tp_source *src, int fd, enum tp_output_format fmt, bool color, char *err,
	       size_t errlen);

#endif
