#include "util/datadir.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INSTALLED_RULES_DIR "/usr/share/tapio/rules"

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int tp_datadir_find(const char *exe, const char *sub, char *out, unsigned long len)
{
	static const char *const candidates[] = { "/../share/tapio/", "/share/tapio/" };
	char dir[PATH_MAX];
	char *slash;

	if (strlen(exe) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, exe);
	slash = strrchr(dir, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		int n = snprintf(out, len, "%s%s%s", dir, candidates[i], sub);

		if (n < 0 || (unsigned long)n >= len)
			return -ENAMETOOLONG;
		if (is_dir(out))
			return 0;
	}
	return -ENOENT;
}

static char rules_dir[PATH_MAX];
static pthread_once_t rules_once = PTHREAD_ONCE_INIT;

static void find_rules_dir(void)
{
	char exe[PATH_MAX];
	char found[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	snprintf(rules_dir, sizeof(rules_dir), "%s", INSTALLED_RULES_DIR);
	if (n <= 0)
		return;
	exe[n] = '\0';
	if (tp_datadir_find(exe, "rules", found, sizeof(found)) == 0 &&
	    realpath(found, rules_dir) == NULL)
		snprintf(rules_dir, sizeof(rules_dir), "%s", found);
}

const char *tp_shipped_rules_dir(void)
{
	pthread_once(&rules_once, find_rules_dir);
	return rules_dir;
}
