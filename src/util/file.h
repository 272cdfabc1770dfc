/*
 * file.h - read a small whole file (a token, a PEM bundle) into memory;
 * make a directory and its parents.
 */
#ifndef TAPIO_UTIL_FILE_H
#define TAPIO_UTIL_FILE_H

#include <stddef.h>

/* *out gets a NUL-terminated copy (free it) and *len its length. Returns 0,
 * -EFBIG past max bytes, or -errno. */
int tp_read_file(const char *path, size_t max, char **out, size_t *len);

/* mkdir -p: missing parents with parent_mode, path itself with mode (an
 * existing directory is left as it is). Returns 0 or -errno. */
int tp_mkdir_p(const char *path, unsigned parent_mode, unsigned mode);

#endif
