/*
 * util/trusted.h - read a file the agent acts on (rule files, config files,
 * Lua chunks) under one policy, the only place that policy is written.
 *
 * A root agent runs the Lua of its rule files and does what its config
 * says: whoever can change those files controls the agent. So a file is
 * read only when
 *   1. it is a regular file (a directory, FIFO or device is refused, and
 *      opening a FIFO never blocks), of at most max_bytes;
 *   2. it is owned by root or by the agent's effective user;
 *   3. neither its group nor others may write it;
 *   4. the folder that holds it is owned by root or the agent's user and
 *      neither its group nor others may write it, unless it is sticky (like
 *      /tmp: others cannot rename or remove a file they do not own).
 * A folder whose files are all loaded (a rule folder) must meet 2 and 3
 * with no sticky exception: anyone who can write it can add a file.
 *
 * The file's checks are made on the open descriptor (fstat), so the file
 * checked is the file read. Every refusal is an error message that names
 * the path and what to change: "PATH: refusing to load: writable by every
 * user (mode 666); run chmod go-w on it".
 */
#ifndef TAPIO_UTIL_TRUSTED_H
#define TAPIO_UTIL_TRUSTED_H

#include <stdbool.h>
#include <stddef.h>

struct tp_trusted_opts {
	size_t max_bytes;
	/* Read whatever the owner and mode (rules.allow_untrusted, tests);
	 * rule 1 still applies. */
	bool skip_trust;
};

/*
 * Read the whole file at path: *text gets a NUL-terminated copy (free it),
 * *len its length. Returns 0, or with err = "PATH: why": -errno of open,
 * -EINVAL not a regular file, -EFBIG larger than max_bytes, -EPERM refused
 * by the policy (owner or mode of the file or its folder), -EIO short read.
 */
int tp_trusted_read(const char *path, const struct tp_trusted_opts *opts, char **text,
		    size_t *len, char *err, size_t errlen);

/* May the files of folder path be loaded (rules 2 and 3, no sticky
 * exception)? Returns 0, -errno of stat, -ENOTDIR, or -EPERM with err. */
int tp_trusted_dir(const char *path, char *err, size_t errlen);

#endif
