#include "util/trusted.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rules 2 and 3 (and 4 for a folder, where sticky_ok). Returns 0 or
 * -EPERM with err naming path. */
static int check(const char *path, const struct stat *st, bool sticky_ok, const char *what,
		 char *err, size_t errlen)
{
	uid_t me = geteuid();

	if (st->st_uid != 0 && st->st_uid != me) {
		snprintf(err, errlen,
			 "%s: refusing to load%s: owned by uid %u, neither root nor the agent's user "
			 "(uid %u); whoever owns it could make the agent run any code",
			 path, what, (unsigned)st->st_uid, (unsigned)me);
		return -EPERM;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(sticky_ok && (st->st_mode & S_ISVTX))) {
		snprintf(err, errlen,
			 "%s: refusing to load%s: writable by %s (mode %03o); run chmod go-w on it",
			 path, what, (st->st_mode & S_IWOTH) ? "every user" : "its group",
			 (unsigned)(st->st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

/* Rule 4: the folder of path (as named: a symlink's own folder). */
static int check_folder(const char *path, char *err, size_t errlen)
{
	char copy[PATH_MAX];
	const char *dir;
	struct stat st;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		snprintf(err, errlen, "%.200s...: path too long", path);
		return -ENAMETOOLONG;
	}
	dir = dirname(copy);
	if (stat(dir, &st) < 0) {
		int r = -errno;

		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return r;
	}
	return check(dir, &st, true, " from this folder", err, errlen);
}

int tp_trusted_read(const char *path, const struct tp_trusted_opts *opts, char **text,
		    size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t n = 0;
	char *buf = NULL;
	int fd, r;

	*text = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO in place of a rule file must not hang the agent
	 * (reads of a regular file ignore it). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		r = -EINVAL;
		goto out;
	}
	if (!opts->skip_trust && ((r = check(path, &st, false, "", err, errlen)) < 0 ||
				  (r = check_folder(path, err, errlen)) < 0))
		goto out;
	if ((uint64_t)st.st_size > opts->max_bytes) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, opts->max_bytes);
		r = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		r = -ENOMEM;
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: short read: %s", path,
				 k < 0 ? strerror(-r) : "the file changed");
			goto out;
		}
		n += (size_t)k;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

int tp_trusted_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		int r = -errno;

		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a folder", path);
		return -ENOTDIR;
	}
	return check(path, &st, false, "", err, errlen);
}
