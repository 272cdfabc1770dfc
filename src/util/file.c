#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/trusted.h"

int tp_read_bearer_token(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	struct tp_trusted_opts opts = {.max_bytes = 4096};
	char *text, terr[1024];
	size_t n, start = 0;
	int r;

	r = tp_trusted_read(path, &opts, &text, &n, terr, sizeof(terr));
	if (r < 0) {
		snprintf(err, errlen, "the token file %s", terr);
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

const char *tp_path_base(const char *s, size_t n, size_t *len)
{
	const char *b;

	while (n > 1 && s[n - 1] == '/')
		n--;
	b = memrchr(s, '/', n);
	if (b && (size_t)(b - s) + 1 < n) {
		*len = n - (size_t)(b - s) - 1;
		return b + 1;
	}
	if (b) {
		*len = 1;
		return "/";
	}
	*len = n;
	return s;
}
