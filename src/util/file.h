/*
 * util/file.h - read a bearer token file; make a directory and its parents;
 * a path's last component.
 * (Every file the agent acts on or trusts, rules, config, tokens and TLS
 * files, is read through util/trusted.h.)
 */
#ifndef TAPIO_UTIL_FILE_H
#define TAPIO_UTIL_FILE_H

#include <stddef.h>

/*
 * Read a bearer token file (at most 4 KiB) under the trusted-file policy
 * (util/trusted.h: owned by root or by us, writable by nobody else): blanks
 * and line ends around it trimmed; printable ASCII only (it goes in a
 * header); not empty. out gets
 * "Bearer <token>". Returns 0, -E2BIG when that does not fit outlen, -EINVAL
 * (bad content), or tp_trusted_read's error, with err naming the file.
 * out is left as it was on any error.
 */
int tp_read_bearer_token(const char *path, char *out, size_t outlen, char *err, size_t errlen);

/* mkdir -p: missing parents with parent_mode, path itself with mode (an
 * existing directory is left as it is). Returns 0 or -errno. */
int tp_mkdir_p(const char *path, unsigned parent_mode, unsigned mode);

/* The last component of path s (n bytes), trailing slashes aside: "b" of
 * "/a/b" and "/a/b/", "/" of "/", s itself without a slash. Its length in
 * *len; a pointer into s, or "/". As tapio.basename in Lua. */
const char *tp_path_base(const char *s, size_t n, size_t *len);

#endif
