/*
 * util/file.h - read a small whole file (a token, a PEM bundle) into
 * memory; read a bearer token file; make a directory and its parents.
 * (Files the agent acts on, rules and config, go through util/trusted.h.)
 */
#ifndef TAPIO_UTIL_FILE_H
#define TAPIO_UTIL_FILE_H

#include <stddef.h>

/* *out gets a NUL-terminated copy (free it) and *len its length. Returns 0,
 * -EFBIG past max bytes, or -errno. */
int tp_read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Read a bearer token file (at most 4 KiB): blanks and line ends around it
 * trimmed; printable ASCII only (it goes in a header); not empty. out gets
 * "Bearer <token>". Returns 0, -E2BIG when that does not fit outlen, -EINVAL
 * (bad content), or the read's -errno / -EFBIG, with err naming the file.
 * out is left as it was on any error.
 */
int tp_read_bearer_token(const char *path, char *out, size_t outlen, char *err, size_t errlen);

/* mkdir -p: missing parents with parent_mode, path itself with mode (an
 * existing directory is left as it is). Returns 0 or -errno. */
int tp_mkdir_p(const char *path, unsigned parent_mode, unsigned mode);

#endif
