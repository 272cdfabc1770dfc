#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tp_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf;
	int r = 0;

	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t k;

		if (n == cap) {
			char *nb;

			if (cap >= max) {
				r = -EFBIG;
				break;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int tp_read_bearer_token(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	char *text;
	size_t n, start = 0;
	int r;

	r = tp_read_file(path, 4096, &text, &n);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the token file %s: %s", path,
			 r == -EFBIG ? "larger than 4 KiB" : strerror(-r));
		return r;
	}
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
		     text[n - 1] == '\t'))
		n--;
	while (start < n && (text[start] == ' ' || text[start] == '\t'))
		start++;
	r = 0;
	for (size_t i = start; i < n && !r; i++) {
		if (text[i] < 0x20 || text[i] > 0x7e) {
			snprintf(err, errlen,
				 "the token file %s holds a character that cannot go in a header "
				 "(byte %zu)",
				 path, i);
			r = -EINVAL;
		}
	}
	if (!r && n == start) {
		snprintf(err, errlen, "the token file %s is empty", path);
		r = -EINVAL;
	}
	if (!r && (size_t)snprintf(NULL, 0, "Bearer %.*s", (int)(n - start), text + start) >= outlen) {
		snprintf(err, errlen, "the token in %s is too long", path);
		r = -E2BIG;
	}
	if (!r)
		snprintf(out, outlen, "Bearer %.*s", (int)(n - start), text + start);
	free(text);
	return r;
}

int tp_mkdir_p(const char *path, unsigned parent_mode, unsigned mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, (mode_t)parent_mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
