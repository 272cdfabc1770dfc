#include "lua/rules_watch.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/hash.h"

static uint64_t stat_sig(const char *path)
{
	struct stat st;
	uint64_t h = TP_FNV1A_INIT;

	h = tp_fnv1a(h, path, strlen(path));
	if (stat(path, &st) < 0)
		return tp_fnv1a(h, "missing", 7);
	h = tp_fnv1a(h, &st.st_ino, sizeof(st.st_ino));
	h = tp_fnv1a(h, &st.st_dev, sizeof(st.st_dev));
	h = tp_fnv1a(h, &st.st_mode, sizeof(st.st_mode));
	/* A directory counts by identity (a swapped ConfigMap version); its
	 * *.lua entries count one by one, other files in it do not. */
	if (S_ISDIR(st.st_mode))
		return h;
	h = tp_fnv1a(h, &st.st_size, sizeof(st.st_size));
	h = tp_fnv1a(h, &st.st_mtim, sizeof(st.st_mtim));
	h = tp_fnv1a(h, &st.st_ctim, sizeof(st.st_ctim));
	return h;
}

static bool is_lua(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && !strcmp(name + n - 4, ".lua") && name[0] != '.';
}

uint64_t tp_rules_watch_signature(const char *const *paths, size_t npaths)
{
	uint64_t sig = 0;

	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		/* Paths in order; a directory's entries in any order (xor). */
		sig = sig * 31 + stat_sig(paths[i]);
		if (stat(paths[i], &st) < 0 || !S_ISDIR(st.st_mode) || !(d = opendir(paths[i])))
			continue;
		while ((de = readdir(d))) {
			char p[PATH_MAX];

			if (!is_lua(de->d_name))
				continue;
			if (snprintf(p, sizeof(p), "%s/%s", paths[i], de->d_name) >= (int)sizeof(p))
				continue;
			sig ^= stat_sig(p);
		}
		closedir(d);
	}
	return sig;
}

void tp_rules_watch_init(struct tp_rules_watch *w, const char *const *paths, size_t npaths,
			 uint64_t interval_ns, uint64_t now_ns)
{
	memset(w, 0, sizeof(*w));
	w->paths = paths;
	w->npaths = npaths;
	w->interval_ns = interval_ns;
	w->next_ns = now_ns + interval_ns;
	w->loaded = tp_rules_watch_signature(paths, npaths);
}

bool tp_rules_watch_changed(struct tp_rules_watch *w, uint64_t now_ns)
{
	uint64_t sig;

	if (!w->interval_ns || now_ns < w->next_ns)
		return false;
	w->next_ns = now_ns + w->interval_ns;
	sig = tp_rules_watch_signature(w->paths, w->npaths);
	if (sig == w->loaded) {
		w->have_pending = false;
		return false;
	}
	if (!w->have_pending || sig != w->pending) {
		w->pending = sig;
		w->have_pending = true;
		return false;
	}
	w->loaded = sig;
	w->have_pending = false;
	return true;
}
