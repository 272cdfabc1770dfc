/*
 * output/file.h - the JSON-lines file output (file.path): every selected
 * event and alert as one line in the shape of -o json, appended by a thread
 * of its own (output/lines.h: at least once, every drop counted).
 *
 * Rotation by size, like Tetragon's export file: past file.max_size the
 * file becomes <path>.1 (an older <path>.1 becomes <path>.2, and so on) and
 * a new <path> starts; file.max_backups rotated files are kept, older ones
 * deleted. A line is never split across two files. A write that fails (a
 * full disk) is retried, in order, with backoff.
 */
#ifndef TAPIO_OUTPUT_FILE_H
#define TAPIO_OUTPUT_FILE_H

#include <stddef.h>

#include "config/config.h"
#include "output/output.h"

/* Opens the file now: a path that cannot be written is an error naming
 * file.path, before anything runs. */
int tp_output_file_new(struct tp_output **out, const struct tp_config *cfg, char *err,
		       size_t errlen);

/* Check that file.path can be opened for appending (creating it, 0600),
 * before anything starts. Returns 0 or -errno. */
int tp_output_file_check(const char *path, char *err, size_t errlen);

#endif
